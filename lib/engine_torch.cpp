// The libtorch engine: with lib/engine_alloc.cpp (the load's allocator),
// lib/engine_cache.cpp (the model cache's libtorch side) and
// lib/engine_graph_equal.cpp one of the engine module's C++ files, the only
// C++ of the library and the only files that include libtorch. It implements
// lib/engine.h. Every C++ exception is
// caught here and becomes a status plus a message (c10 errors without their
// backtrace), so nothing C++ ever crosses into the C code.
#include <torch/script.h>
#include <torch/version.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/InferenceMode.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/csrc/jit/runtime/print_handler.h>

#include <dlfcn.h>
#include <link.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine_alloc.h"
#include "engine_cache.h"
#include "engine_memory_reader.h"

extern "C" {
#include "engine.h"
#include "error.h"
}

// --- The forward pass's allocation cache -----------------------------------
// Why: a forward pass allocates and frees the same large buffers every time
// (activations; with precision bf16 also a reordered copy of every
// convolution's weights and oneDNN's scratchpad: libtorch 1.13 does not
// prepack bf16 convolution weights). glibc maps blocks above its mmap threshold with mmap()
// and unmaps them on free, and trims the top of its heap past its trim
// threshold, so each pass faulted its buffers in afresh: ResNet-18 in bf16 at
// batch 8 ran at 40-78 images/s in most processes, 142-162 in a few, and at
// 145-162 in every one with glibc's thresholds raised (docs/engine.md). Those
// thresholds are the host process's policy, not a library's to change.
//
// What: libtorch's CPU allocator -- every ATen tensor, and every ideep buffer
// (oneDNN's weight reorders and scratchpads, which IDeepRegistration.cpp
// sends through c10::GetAllocator(kCPU)) -- is replaced once, at the first
// model load that wants the cache, by AllocCache. It delegates to the
// allocator it replaced, except on a thread inside run_forward() of a model
// that uses the cache (a thread-local depth, ForwardScope). There a block
// comes from c10::alloc_cpu, as the default's do (64-byte aligned), and its
// size is remembered; when it is freed (anywhere, on any thread: the output
// scores are freed after run_forward returns) while a model that uses the
// cache is alive, it goes to a free list of its exact size, which the next
// allocation of that size takes: a forward pass asks for the same sizes every
// time. Everything else -- the host's own tensors, model loading (but for its
// check and warm-up passes), libtorch's intra-op worker threads -- is the
// replaced allocator's, as before.
//
// Bounds: the free lists hold at most `cap` bytes (IMGCLASS_ALLOC_CACHE, in
// MiB; 256 by default: ResNet-18 at batch 8 leaves 58 MB there in bf16, 71 MB
// in float32, the load's batch 1 and 2 passes included); a
// block freed beyond that goes back to c10::free_cpu at once. When the last
// model that uses the cache is freed, every held block is freed, so an
// unloaded model's memory returns to the system as before.
// IMGCLASS_ALLOC_CACHE=0, read at each model load, leaves that model's
// forward passes to libtorch's allocator (and, before the first model that
// wants the cache, leaves libtorch's allocator in place).
namespace alloc_cache {

constexpr unsigned long long kDefaultCapMiB = 256;
const char *const kEnv = "IMGCLASS_ALLOC_CACHE";

struct State {
    std::mutex mutex;
    c10::Allocator *replaced = nullptr;       // delegated to outside forward passes
    c10::DeleterFnPtr replaced_raw = nullptr; // its deleter for raw (ideep) frees
    bool installed = false;
    int users = 0;                            // live engines that use the cache
    size_t cap = (size_t)kDefaultCapMiB << 20;
    std::unordered_map<void *, size_t> ours;  // blocks made here, in use: size
    std::unordered_map<size_t, std::vector<void *>> free_lists; // by exact size
    size_t held_bytes = 0, held_blocks = 0;
    unsigned long long hits = 0, misses = 0, dropped = 0;
};

// Never destroyed: libtorch frees tensors through the allocator during its
// own static destruction, after this file's statics would be gone.
State &state()
{
    static State *s = new State;
    return *s;
}

// > 0 while this thread is inside run_forward() of a model using the cache.
thread_local int forward_depth = 0;

// The deleter of every block made here, and the allocator's raw deleter:
// ideep frees with c10::GetAllocator(kCPU)->raw_deallocate(p), which also
// reaches here for blocks the replaced allocator made. Never throws.
void release(void *p)
{
    if (!p)
        return;
    State &s = state();
    std::unique_lock<std::mutex> lock(s.mutex);
    auto it = s.ours.find(p);
    if (it == s.ours.end()) {
        lock.unlock();
        s.replaced_raw(p);
        return;
    }
    size_t n = it->second;
    s.ours.erase(it);
    if (s.users > 0 && s.held_bytes + n <= s.cap) {
        try {
            s.free_lists[n].push_back(p);
            s.held_bytes += n;
            s.held_blocks++;
            return;
        } catch (...) {
            // No memory for the list entry: free the block instead.
        }
    } else if (s.users > 0) {
        s.dropped++;
    }
    lock.unlock();
    c10::free_cpu(p);
}

class AllocCache final : public c10::Allocator {
public:
    c10::DataPtr allocate(size_t n) const override
    {
        State &s = state();
        if (forward_depth == 0 || n == 0)
            return s.replaced->allocate(n);
        void *p = nullptr;
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            auto it = s.free_lists.find(n);
            if (it != s.free_lists.end() && !it->second.empty()) {
                p = it->second.back();
                it->second.pop_back();
                s.held_bytes -= n;
                s.held_blocks--;
                s.hits++;
            } else {
                s.misses++;
            }
        }
        if (!p)
            p = c10::alloc_cpu(n); // throws c10::Error when out of memory
        try {
            std::lock_guard<std::mutex> lock(s.mutex);
            s.ours[p] = n;
        } catch (...) {
            c10::free_cpu(p);
            throw;
        }
        return {p, p, &release, c10::Device(c10::kCPU)};
    }
    c10::DeleterFnPtr raw_deleter() const override { return &release; }
};

// c10 keeps a pointer to the allocator for the life of the process, so this
// module must never be unmapped once it is installed (the loader dlclose()s
// modules in tests): pinned with RTLD_NODELETE. Linked into a program, the
// code is the program's and stays anyway.
bool pin_this_module()
{
    Dl_info info;
    struct link_map *map = nullptr;
    if (!dladdr1(reinterpret_cast<void *>(&release), &info, reinterpret_cast<void **>(&map),
                 RTLD_DL_LINKMAP) ||
        !map)
        return false;
    if (!map->l_name || !map->l_name[0])
        return true;
    return dlopen(map->l_name, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE) != nullptr;
}

// Once per process. Not installed (and the cache stays off) when libtorch's
// current allocator has no raw deleter (ideep could not free through it), when
// the module cannot be pinned, or when a host set an allocator of a higher
// priority than libtorch's default (0, which ours shares, so that a host can
// still replace ours).
bool install()
{
    static std::once_flag once;
    std::call_once(once, [] {
        State &s = state();
        c10::Allocator *current = c10::GetCPUAllocator();
        if (!current || !current->raw_deleter() || !pin_this_module())
            return;
        static AllocCache *cache = new AllocCache; // never destroyed, as state()
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            s.replaced = current;
            s.replaced_raw = current->raw_deleter();
        }
        c10::SetCPUAllocator(cache, /*priority=*/0);
        std::lock_guard<std::mutex> lock(s.mutex);
        s.installed = c10::GetCPUAllocator() == cache;
    });
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.installed;
}

// An engine's use of the cache, from its load to its free (a member of
// ic_engine, declared first so that it goes last, after the module's tensors).
class Use {
public:
    Use() = default;
    Use(const Use &) = delete;
    Use &operator=(const Use &) = delete;
    ~Use()
    {
        if (!on_)
            return;
        State &s = state();
        std::unordered_map<size_t, std::vector<void *>> lists;
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            if (--s.users > 0)
                return;
            lists.swap(s.free_lists); // noexcept; freed outside the lock
            s.held_bytes = s.held_blocks = 0;
        }
        for (auto &list : lists)
            for (void *p : list.second)
                c10::free_cpu(p);
    }

    // Reads IMGCLASS_ALLOC_CACHE and, unless it is 0, joins the cache
    // (installing it first). A value that is not a number of MiB is refused
    // with a message naming `source` and the variable.
    imgclass_status start(const char *source)
    {
        unsigned long long mib = kDefaultCapMiB;
        const char *v = std::getenv(kEnv);
        if (v && *v) {
            char *end = nullptr;
            errno = 0;
            mib = std::strtoull(v, &end, 10);
            if (*v < '0' || *v > '9' || *end || errno || mib > (SIZE_MAX >> 20))
                return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source,
                               "%s=\"%s\" is not a size in MiB (the forward pass's "
                               "allocation cache; 0 turns it off)",
                               kEnv, v);
        }
        if (mib == 0 || !install())
            return IMGCLASS_OK;
        State &s = state();
        std::lock_guard<std::mutex> lock(s.mutex);
        s.cap = (size_t)mib << 20; // process-wide: the latest load's value
        s.users++;
        on_ = true;
        return IMGCLASS_OK;
    }

    bool on() const { return on_; }

private:
    bool on_ = false;
};

// Marks this thread as inside a forward pass of an engine using the cache.
class ForwardScope {
public:
    explicit ForwardScope(const Use &use) : on_(use.on())
    {
        if (on_)
            forward_depth++;
    }
    ~ForwardScope()
    {
        if (on_)
            forward_depth--;
    }
    ForwardScope(const ForwardScope &) = delete;
    ForwardScope &operator=(const ForwardScope &) = delete;

private:
    bool on_;
};

void stats(ic_engine_alloc_stats *out)
{
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    out->installed = s.installed;
    out->users = s.users;
    out->cap_bytes = s.cap;
    out->hits = s.hits;
    out->misses = s.misses;
    out->dropped = s.dropped;
    out->held_bytes = s.held_bytes;
    out->held_blocks = s.held_blocks;
    out->live_blocks = s.ours.size();
}

} // namespace alloc_cache
// --- end of the allocation cache --------------------------------------------

struct ic_engine {
    // Declared first, so destroyed last: the module's blocks return first.
    alloc_cache::Use alloc_cache;
    // A Module is a handle (a reference-counted pointer to the script
    // object). After load nothing mutates it; forward() copies the handle,
    // and TorchScript's executor is thread-safe for concurrent calls.
    torch::jit::Module module;
    c10::Device device{c10::kCPU};
    std::string source;
    int channels = 0, height = 0, width = 0;
    int num_classes = 0;
    bool softmax = true;
    bool channels_last = false;   // the input is fed channels_last (NHWC)
    bool bfloat16 = false;        // the weights, and so the input, are bfloat16
    // precision bf16: the 4-D weights are channels_last too (weights_channels_last)
    bool precision_bf16 = false;
    bool quantized = false;       // the graph runs quantized (int8) operators
    // Set when imgclass quantizes the input itself (take_over_input_quantize).
    bool quantizes_input = false;
    double input_scale = 0;       // the graph's scale and zero point, as
    int64_t input_zero_point = 0; // torch would have applied them
    at::ScalarType input_qtype = at::kQUInt8;
    at::QEngine qengine = at::QEngine::NoQEngine; // the engine it runs on
    unsigned optimize_applied = 0; // IMGCLASS_OPTIMIZE_* flags actually applied
    // The load's steps, in ms (ic_engine_description)
    double deserialize_ms = 0, optimize_ms = 0, check_ms = 0, warmup_ms = 0;
    // The model cache (ic_engine_description)
    int cache = IC_ENGINE_CACHE_OFF;
    bool cache_refused = false;
    std::string cache_note;
    double cache_entry_ms = 0;
    double freeze_ms = 0; // within optimize_ms
};

namespace {

double ms_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The value of an extra file the archive does not hold (see ic_engine_load).
const std::string kAbsent("\x01imgclass: absent\x01");

// An error raised inside a TorchScript interpreter comes as libtorch's
// whole report: a header line, the serialized code's traceback, the
// original Python's (file names of the machine that exported the model),
// then the error itself on the last line. A result record or a log line
// needs that last line and where it was raised, not 20 lines of both
// tracebacks. Written into `out` (no allocation: this runs in a catch
// handler); any other message is returned as it is.
const char *engine_message(const char *what, char *out, size_t size)
{
    static const char header[] = "The following operation failed in the TorchScript interpreter.";
    if (strncmp(what, header, sizeof header - 1) != 0)
        return what;
    size_t len = strlen(what);
    while (len > 0 && (what[len - 1] == '\n' || what[len - 1] == ' '))
        len--;
    size_t last = len;
    while (last > 0 && what[last - 1] != '\n')
        last--;
    const char *file = strstr(what, "\n  File \"code/");
    int where = 0;
    if (file) {
        file += 3;
        const char *nl = strchr(file, '\n');
        where = nl ? (int)(nl - file) : (int)strlen(file);
    }
    if (where > 0)
        snprintf(out, size, "%.*s (in the model's TorchScript code, %.*s)", (int)(len - last),
                 what + last, where, file);
    else
        snprintf(out, size, "%.*s", (int)(len - last), what + last);
    return out;
}

// Runs `fn`, turning any exception into ic_fail(status_on_error, source, ...).
template <typename Fn>
imgclass_status guarded(const char *source, imgclass_status status_on_error, Fn fn)
{
    try {
        return fn();
    } catch (const c10::Error &e) {
        char m[1024];
        return ic_fail(status_on_error, source, "%s",
                       engine_message(e.what_without_backtrace(), m, sizeof m));
    } catch (const std::bad_alloc &) {
        return ic_error_oom(source, "engine memory");
    } catch (const std::exception &e) {
        char m[1024];
        return ic_fail(status_on_error, source, "%s", engine_message(e.what(), m, sizeof m));
    } catch (...) {
        return ic_fail(status_on_error, source, "unknown C++ exception");
    }
}

// Quantized engines. libtorch keeps ONE quantized engine per process: a
// quantized model's packed weights are built for the engine current when it
// is loaded, and its kernels dispatch on the engine current when it runs
// (with another one the scores change). So every live quantized model shares
// one engine: loads are serialised by this mutex, the first quantized model
// sets the engine, and a later one that asks for another is refused while
// any model on the first is alive.
std::mutex qengine_mutex;
int qengine_users = 0;                                 // live quantized models
at::QEngine qengine_in_use = at::QEngine::NoQEngine;   // valid while users > 0

const char *qengine_name(at::QEngine q)
{
    switch (q) {
    case at::QEngine::ONEDNN: return "onednn";
    case at::QEngine::QNNPACK: return "qnnpack";
    case at::QEngine::FBGEMM: return "fbgemm";
    default: return "none";
    }
}

bool qengine_supported(at::QEngine q)
{
    for (at::QEngine have : at::globalContext().supportedQEngines())
        if (have == q)
            return true;
    return false;
}

// oneDNN's int8 kernels are its fast path on x86 with AVX2 (about 20x
// qnnpack's speed on ResNet-18 here, docs/engine.md); qnnpack is written for
// ARM and is the choice everywhere else.
bool cpu_suits_onednn()
{
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

// The engine a quantized model loads with: the named one (model.c has
// checked the name), or onednn where the CPU suits it, else qnnpack, else
// whatever this libtorch has. NoQEngine when it has none (float models
// still load).
imgclass_status choose_qengine(const char *name, const char *source, at::QEngine *out)
{
    if (name) {
        at::QEngine q = !std::strcmp(name, "onednn")    ? at::QEngine::ONEDNN
                        : !std::strcmp(name, "qnnpack") ? at::QEngine::QNNPACK
                                                         : at::QEngine::FBGEMM;
        if (!qengine_supported(q)) {
            std::string have;
            for (at::QEngine h : at::globalContext().supportedQEngines())
                if (h != at::QEngine::NoQEngine)
                    have += std::string(have.empty() ? "" : ", ") + qengine_name(h);
            return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                           "quantized engine \"%s\" is not in this libtorch (it has: %s)", name,
                           have.empty() ? "none" : have.c_str());
        }
        *out = q;
        return IMGCLASS_OK;
    }
    if (cpu_suits_onednn() && qengine_supported(at::QEngine::ONEDNN))
        *out = at::QEngine::ONEDNN;
    else if (qengine_supported(at::QEngine::QNNPACK))
        *out = at::QEngine::QNNPACK;
    else if (qengine_supported(at::QEngine::FBGEMM))
        *out = at::QEngine::FBGEMM;
    else
        *out = at::QEngine::NoQEngine;
    return IMGCLASS_OK;
}

bool block_is_quantized(torch::jit::Block *block)
{
    for (torch::jit::Node *node : block->nodes()) {
        const char *kind = node->kind().toQualString();
        if (!std::strncmp(kind, "quantized::", 11) ||
            !std::strcmp(kind, "aten::quantize_per_tensor") ||
            !std::strcmp(kind, "aten::quantize_per_channel"))
            return true;
        for (torch::jit::Block *sub : node->blocks())
            if (block_is_quantized(sub))
                return true;
    }
    return false;
}

// A model is quantized when any method of it or of a submodule (a traced,
// unfrozen model keeps its layers as submodules) runs a quantized operator.
bool module_is_quantized(const torch::jit::Module &module)
{
    for (const torch::jit::Module &m : module.modules())
        for (const torch::jit::Method &method : m.get_methods())
            if (block_is_quantized(method.graph()->block()))
                return true;
    return false;
}

// Input quantization, taken over from the graph. An FX-quantized model
// starts with aten::quantize_per_tensor(x, scale, zero_point, dtype). The
// libtorch Debian ships has no fbgemm, so that kernel is a scalar loop over
// std::nearbyint: 5 % of ResNet-18's int8 forward pass at batch 8 here
// (docs/engine.md). When the graph's input feeds only that node and its
// parameters are constants, the node is removed at load and imgclass
// quantizes the float batch itself with the loop below, bit for bit the
// value torch computes (test_model.c's quantize probes check this).
bool take_over_input_quantize(ic_engine &e)
{
    if (e.device != c10::Device(c10::kCPU))
        return false;
    c10::optional<torch::jit::Method> forward = e.module.find_method("forward");
    if (!forward)
        return false;
    std::shared_ptr<torch::jit::Graph> graph = forward->graph();
    if (graph->inputs().size() != 2)
        return false;
    torch::jit::Value *x = graph->inputs()[1];
    if (x->uses().size() != 1 || x->uses()[0].offset != 0)
        return false;
    torch::jit::Node *node = x->uses()[0].user;
    if (node->kind() != c10::Symbol::fromQualString("aten::quantize_per_tensor") ||
        node->inputs().size() != 4 || node->outputs().size() != 1)
        return false;
    c10::optional<c10::IValue> scale = torch::jit::toIValue(node->input(1));
    c10::optional<c10::IValue> zero_point = torch::jit::toIValue(node->input(2));
    c10::optional<c10::IValue> dtype = torch::jit::toIValue(node->input(3));
    if (!scale || !zero_point || !dtype || !dtype->isInt())
        return false;
    // Two overloads: (float, int) and .tensor_qparams (one-element tensors,
    // which torch reads with item(), as here).
    double s;
    int64_t z;
    if (scale->isDouble())
        s = scale->toDouble();
    else if (scale->isTensor() && scale->toTensor().numel() == 1)
        s = scale->toTensor().item<double>();
    else
        return false;
    if (zero_point->isInt())
        z = zero_point->toInt();
    else if (zero_point->isTensor() && zero_point->toTensor().numel() == 1 &&
             !at::isFloatingType(zero_point->toTensor().scalar_type()))
        z = zero_point->toTensor().item<int64_t>();
    else
        return false;
    at::ScalarType type = static_cast<at::ScalarType>(dtype->toInt());
    int qmin = type == at::kQUInt8 ? 0 : -128, qmax = type == at::kQUInt8 ? 255 : 127;
    // Anything torch would refuse or treat specially stays with torch.
    if ((type != at::kQUInt8 && type != at::kQInt8) || !(s > 0) || !std::isfinite(s) ||
        !std::isfinite(1.0f / static_cast<float>(s)) || z < qmin || z > qmax)
        return false;
    node->output()->replaceAllUsesWith(x);
    node->destroy();
    e.quantizes_input = true;
    e.input_scale = s;
    e.input_zero_point = z;
    e.input_qtype = type;
    return true;
}

// torch's quantize_val() without fbgemm, element by element:
//   q = clamp((int64_t)(zero_point + nearbyint(x * (1.0f / (float)scale))), qmin, qmax)
// in float arithmetic, rounding half to even. Two details make it exact:
//  * |t| < 1024 is rounded by the add-and-subtract of 1.5 * 2^23, which is
//    nearbyint for |t| < 2^22; beyond +-1024 the result clamps either way;
//  * torch's cast to int64 has no range check: NaN, infinities and values
//    past 2^63 come out as INT64_MIN on x86, which clamps to qmin.
// Branch-free in blocks of 8 so that the compiler vectorises it.
void quantize_input(const float *x, size_t n, float inv_scale, int zero_point, int qmin,
                    int qmax, uint8_t *out)
{
    const float magic = 0x1.8p23f, zp = static_cast<float>(zero_point);
    auto one = [&](float v) -> uint8_t {
        float t = v * inv_scale;
        float c = t > -1024.0f ? t : -1024.0f; // NaN goes to -1024 here
        c = c < 1024.0f ? c : 1024.0f;
        int q = static_cast<int>((c + magic) - magic) + zero_point;
        q = q < qmin ? qmin : q;
        q = q > qmax ? qmax : q;
        q = zp + t < 0x1p63f ? q : qmin;    // false for NaN too
        return static_cast<uint8_t>(q);     // qint8 keeps its two's complement bits
    };
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t j = 0; j < 8; j++)
            out[i + j] = one(x[i + j]);
    for (; i < n; i++)
        out[i] = one(x[i]);
}

// The quantized tensor the graph's first node would have made of `input`
// (float, contiguous, on the CPU).
at::Tensor quantized_input(const ic_engine &e, const at::Tensor &input)
{
    at::Tensor q = at::_empty_affine_quantized(input.sizes(),
                                               at::TensorOptions().dtype(e.input_qtype),
                                               e.input_scale, e.input_zero_point);
    int qmin = e.input_qtype == at::kQUInt8 ? 0 : -128;
    int qmax = e.input_qtype == at::kQUInt8 ? 255 : 127;
    quantize_input(input.data_ptr<float>(), (size_t)input.numel(),
                   1.0f / static_cast<float>(e.input_scale), (int)e.input_zero_point, qmin,
                   qmax, static_cast<uint8_t *>(q.data_ptr()));
    return q;
}

// precision bf16's layout: every 4-D parameter and buffer (convolution
// kernels) of every submodule in channels_last, the layout oneDNN's bf16
// convolutions run in, so that neither the weights nor the activations
// are reordered at each layer; the input is fed channels_last to match
// (run_forward). Done before freezing, which folds these tensors into the
// graph as constants with their layout.
void weights_channels_last(torch::jit::Module &module)
{
    for (torch::jit::Module sub : module.modules()) {
        std::vector<std::pair<std::string, at::Tensor>> params, buffers;
        for (const auto &p : sub.named_parameters(/*recurse=*/false))
            if (p.value.dim() == 4)
                params.emplace_back(p.name, p.value);
        for (const auto &b : sub.named_buffers(/*recurse=*/false))
            if (b.value.dim() == 4)
                buffers.emplace_back(b.name, b.value);
        for (auto &p : params)
            sub.register_parameter(p.first, p.second.contiguous(at::MemoryFormat::ChannelsLast),
                                   /*is_buffer=*/false);
        for (auto &b : buffers)
            sub.register_buffer(b.first, b.second.contiguous(at::MemoryFormat::ChannelsLast));
    }
}

// The model cache's part of a load (lib/engine_cache.h).
struct CacheWork {
    bool wanted = false;     // config->on_cache_entry is set
    bool from_cache = false; // the module came from config->cached
    // The frozen module as an archive, saved before optimize_for_inference
    // changed its graph in place; NULL when there is none to offer.
    std::unique_ptr<ic_cache::Archive> entry;
    const char *extra_name = nullptr;   // the recipe's file name, and its
    const std::string *extra = nullptr; // content when the archive has one
    size_t archive_size = 0;
};

// Applies the optimisation flags. For a quantized model, flags that do not
// apply are skipped: optimize_for_inference folds and converts float
// operators for MKLDNN and bfloat16 would feed bfloat16 to quantize; freeze
// is kept where it works (an already frozen model refuses it, and that is
// no reason to refuse the model). e.optimize_applied records what ran.
//
// A float model is frozen, then optimised: the two halves of
// torch::jit::optimize_for_inference(module), which freezes a module that
// is not frozen yet and then runs its graph passes on it. Run as two steps,
// the frozen module can be saved between them for the model cache; a
// module from the cache (cw->from_cache) is frozen already and only gets
// the graph passes, exactly as the module frozen here does.
torch::jit::Module optimise(ic_engine &e, torch::jit::Module module, unsigned optimize,
                            CacheWork *cw)
{
    if (e.quantized) {
        e.channels_last = (optimize & IMGCLASS_OPTIMIZE_CHANNELS_LAST) != 0;
        e.bfloat16 = false;
        e.optimize_applied = optimize & IMGCLASS_OPTIMIZE_CHANNELS_LAST;
        if (optimize & (IMGCLASS_OPTIMIZE_FREEZE | IMGCLASS_OPTIMIZE_FOR_INFERENCE)) {
            try {
                module = torch::jit::freeze(module);
                e.optimize_applied |= IMGCLASS_OPTIMIZE_FREEZE;
            } catch (const std::exception &) {
                // Frozen at export (tools/export_model.py --quantize does).
            }
        }
        e.cache_note = "a quantized model is not cached";
        return module;
    }
    e.optimize_applied = optimize & ~IMGCLASS_OPTIMIZE_QUANTIZE_INPUT;
    const bool for_inference = (optimize & IMGCLASS_OPTIMIZE_FOR_INFERENCE) != 0;
    if (!cw->from_cache) {
        if (e.bfloat16)
            module.to(at::kBFloat16);
        if (e.precision_bf16)
            weights_channels_last(module);
        // What optimize_for_inference would freeze: a module that still has
        // its "training" attribute (one frozen at export has lost it).
        const bool freeze = for_inference
                                ? module._ivalue()->type()->hasAttribute("training")
                                : (optimize & IMGCLASS_OPTIMIZE_FREEZE) != 0;
        if (freeze) {
            auto t0 = std::chrono::steady_clock::now();
            module = torch::jit::freeze(module);
            e.freeze_ms = ms_since(t0);
            if (cw->wanted && e.device == c10::Device(c10::kCPU)) {
                try {
                    cw->entry.reset(new ic_cache::Archive(cw->archive_size));
                    ic_cache::save(module, cw->extra_name, cw->extra, cw->entry.get());
                } catch (const std::exception &) {
                    cw->entry.reset();
                    e.cache_note = "the frozen module could not be saved";
                }
            } else if (cw->wanted) {
                e.cache_note = "only models on the CPU are cached";
            }
        } else {
            e.cache_note = "nothing to cache: no freeze ran (the archive was frozen at export, "
                           "or no freeze was asked for)";
        }
    }
    if (for_inference)
        module = torch::jit::optimize_for_inference(module);
    return module;
}

// The forward pass proper: input tensor in, float [N, K] tensor on the CPU
// out (softmax applied if asked). Throws on any engine failure.
at::Tensor run_forward(const ic_engine &e, at::Tensor input)
{
    c10::InferenceMode guard;
    alloc_cache::ForwardScope cached(e.alloc_cache);
    if (e.quantizes_input)
        input = quantized_input(e, input.contiguous());
    if (e.bfloat16) // one copy for both the type and the layout
        input = input.to(at::kBFloat16, /*non_blocking=*/false, /*copy=*/false,
                         e.channels_last ? at::MemoryFormat::ChannelsLast
                                         : at::MemoryFormat::Contiguous);
    else if (e.channels_last)
        input = input.contiguous(at::MemoryFormat::ChannelsLast);
    if (e.device != c10::Device(c10::kCPU))
        input = input.to(e.device);
    torch::jit::Module module = e.module; // handle copy: forward() is non-const
    c10::IValue result = module.forward({input});
    if (!result.isTensor())
        throw std::runtime_error("model output is a " + result.tagKind() +
                                 ", not a tensor of scores N x K");
    at::Tensor out = result.toTensor();
    if (out.dim() != 2 || out.size(0) != input.size(0) || out.size(1) < 1)
        throw std::runtime_error("model output has shape " + c10::str(out.sizes()) +
                                 " for an input of shape " + c10::str(input.sizes()) +
                                 "; expected [" + std::to_string(input.size(0)) + ", K]");
    out = out.to(c10::Device(c10::kCPU), at::kFloat);
    if (e.softmax)
        out = at::softmax(out, 1);
    return out.contiguous();
}

// TorchScript's print() goes to libtorch's print handler, which writes to
// std::cout by default: a model that prints would corrupt the host's
// standard output (imgclass classify's JSON Lines). The library never
// prints, so model output is dropped. The handler is process-wide: it is
// replaced only while it is still libtorch's default, so a host that set
// its own (to log model output) keeps it.
void discard_print(const std::string &) {}

void silence_model_print()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (torch::jit::getPrintHandler() == torch::jit::getDefaultPrintHandler())
            torch::jit::setPrintHandler(discard_print);
    });
}

// The end of a successful load that was asked for a cache entry: hands
// the entry to the core when it reproduces the load's own optimised graph
// (see ic_cache::reproduces), so that a later hit runs the same
// computation, bit for bit. Never fails the load: what went wrong is noted.
void offer_cache_entry(ic_engine &e, const CacheWork &cw, const ic_engine_config *config)
{
    if (cw.from_cache) {
        e.cache = IC_ENGINE_CACHE_HIT;
        return;
    }
    e.cache = IC_ENGINE_CACHE_NONE;
    if (!cw.entry) {
        if (e.cache_note.empty())
            e.cache_note = "no entry was made";
        return;
    }
    auto t0 = std::chrono::steady_clock::now();
    try {
        std::string why;
        const bool for_inference = (config->optimize & IMGCLASS_OPTIMIZE_FOR_INFERENCE) != 0;
        if (ic_cache::reproduces(*cw.entry, for_inference, *e.module.get_method("forward").graph(),
                                 e.device, &why)) {
            config->on_cache_entry(config->cache_ctx, cw.entry->data(), cw.entry->size());
            e.cache = IC_ENGINE_CACHE_MADE;
        } else {
            e.cache_note = "not cached: the saved frozen module, loaded back, optimises to "
                           "another graph (" + why + ")";
        }
    } catch (const c10::Error &ex) {
        e.cache_note = std::string("not cached: ") + ex.what_without_backtrace();
    } catch (const std::exception &ex) {
        e.cache_note = std::string("not cached: ") + ex.what();
    }
    e.cache_entry_ms = ms_since(t0);
}

} // namespace

extern "C" imgclass_status ic_engine_load(const void *data, size_t size, const char *source,
                                          const ic_engine_config *config, ic_engine **out,
                                          int *num_classes)
{
    if (!source)
        source = "memory buffer";
    if (config->device_is_cuda && !at::hasCUDA()) {
        char device[32]; // the source of the message: the device asked for
        snprintf(device, sizeof device, "cuda:%d", config->device_index);
        return ic_fail(IMGCLASS_ERR_DEVICE, device,
                       "this libtorch was built without CUDA (only \"cpu\" works)");
    }
    silence_model_print();
    // Before the first tensor exists (see engine_alloc.h). Then the large
    // tensors of this load (the weights as read and as optimised, the
    // shape check's activations) are huge-page backed.
    ic_alloc::install();
    ic_alloc::LoadScope huge_pages;
    std::unique_ptr<ic_engine> e;
    std::unique_ptr<std::string> extra_file;
    CacheWork cw;
    cw.wanted = config->on_cache_entry != nullptr;
    // Held until the model is loaded and checked (see qengine_mutex).
    std::unique_lock<std::mutex> qlock(qengine_mutex);
    at::QEngine wanted = at::QEngine::NoQEngine;
    imgclass_status st = choose_qengine(config->qengine, source, &wanted);
    if (st != IMGCLASS_OK)
        return st;
    if (qengine_users > 0 && !config->qengine)
        wanted = qengine_in_use; // "any engine that works": the one in use
    at::QEngine previous = at::QEngine::NoQEngine;
    st = guarded(source, IMGCLASS_ERR_MODEL, [&]() -> imgclass_status {
        e.reset(new ic_engine);
        imgclass_status cache_st = e->alloc_cache.start(source);
        if (cache_st != IMGCLASS_OK)
            return cache_st;
        e->source = source;
        e->channels = config->input_channels;
        e->height = config->input_height;
        e->width = config->input_width;
        e->softmax = config->softmax != 0;
        e->channels_last = (config->optimize & IMGCLASS_OPTIMIZE_CHANNELS_LAST) != 0;
        e->bfloat16 = (config->optimize & IMGCLASS_OPTIMIZE_BFLOAT16) != 0;
        if (config->device_is_cuda)
            e->device = c10::Device(c10::kCUDA, (c10::DeviceIndex)config->device_index);
        // Packed int8 weights are built for the engine current at load.
        previous = at::globalContext().qEngine();
        at::QEngine load_with = qengine_users > 0 ? qengine_in_use : wanted;
        if (load_with != at::QEngine::NoQEngine && load_with != previous)
            at::globalContext().setQEngine(load_with);
        auto t0 = std::chrono::steady_clock::now();
        // load() overwrites the value only when the archive holds the file,
        // so a sentinel no real recipe holds tells "absent" from "empty".
        torch::jit::ExtraFilesMap extra;
        if (config->extra_file)
            extra[config->extra_file] = kAbsent;
        torch::jit::Module module;
        if (config->cached) {
            // A checked entry (lib/model_cache.c): the module as freeze()
            // left it, and the recipe copied from the model's archive.
            // Anything wrong with it, and the load goes on from the archive.
            try {
                auto reader = std::make_shared<MemoryReadAdapter>(config->cached,
                                                                  config->cached_size);
                torch::jit::ExtraFilesMap cached_extra = extra;
                torch::jit::Module cached = torch::jit::load(reader, e->device, cached_extra);
                if (cached._ivalue()->type()->hasAttribute("training") ||
                    module_is_quantized(cached)) {
                    e->cache_note = "the cache entry does not hold a frozen float module";
                } else {
                    module = cached;
                    extra = std::move(cached_extra);
                    cw.from_cache = true;
                }
            } catch (const std::exception &ex) {
                e->cache_note = std::string("libtorch could not load the cache entry: ") +
                                ex.what();
            }
            e->cache_refused = !cw.from_cache;
        }
        if (!cw.from_cache) {
            auto reader = std::make_shared<MemoryReadAdapter>(data, size);
            module = torch::jit::load(reader, e->device, extra);
            module.eval();
        }
        if (config->extra_file && extra[config->extra_file] != kAbsent)
            extra_file.reset(new std::string(std::move(extra[config->extra_file])));
        e->deserialize_ms = ms_since(t0);
        e->quantized = module_is_quantized(module);
        if (e->quantized) {
            if (wanted == at::QEngine::NoQEngine)
                throw std::runtime_error("the model is quantized but this libtorch has no "
                                         "quantized engine");
            if (load_with != wanted)
                return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                               "quantized engine \"%s\" asked for while a loaded quantized "
                               "model runs on \"%s\" (libtorch has one quantized engine per "
                               "process)",
                               qengine_name(wanted), qengine_name(qengine_in_use));
            e->qengine = wanted;
        } else if (config->precision == IMGCLASS_PRECISION_BF16) {
            // Refused, not run in float32 behind the caller's back (the
            // library never prints, so it could not even warn): oneDNN
            // would emulate bf16, slower than float32 and as inexact as bf16.
            if (config->bf16_missing)
                return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                               "precision bf16 needs native bfloat16 arithmetic, and this "
                               "CPU has %s; load the model in float32",
                               config->bf16_missing);
            e->precision_bf16 = e->bfloat16 = e->channels_last = true;
        }
        t0 = std::chrono::steady_clock::now();
        cw.extra_name = config->extra_file;
        cw.extra = extra_file.get();
        cw.archive_size = size;
        e->module = optimise(*e, module, config->optimize, &cw);
        if (e->quantized && (config->optimize & IMGCLASS_OPTIMIZE_QUANTIZE_INPUT) &&
            take_over_input_quantize(*e))
            e->optimize_applied |= IMGCLASS_OPTIMIZE_QUANTIZE_INPUT;
        e->optimize_ms = ms_since(t0);
        return IMGCLASS_OK;
    });
    // A float model leaves the process's engine as it found it.
    if (qengine_users == 0 && (!e || !e->quantized || st != IMGCLASS_OK))
        guarded(source, IMGCLASS_ERR_ENGINE, [&]() -> imgclass_status {
            if (previous != at::QEngine::NoQEngine && at::globalContext().qEngine() != previous)
                at::globalContext().setQEngine(previous);
            return IMGCLASS_OK;
        });
    if (st != IMGCLASS_OK)
        return st;
    if (config->on_extra_file) {
        // C code: reports through ic_fail() and never throws.
        st = config->on_extra_file(config->extra_ctx, extra_file ? extra_file->data() : NULL,
                                   extra_file ? extra_file->size() : 0, &e->height, &e->width);
        if (st != IMGCLASS_OK)
            return st;
    }
    // The shape check: batch 2, so a model that drops or hard-codes the
    // batch dimension is caught, then the warm-up runs at batch 1.
    // A cache entry is made only by a load whose check passed (see
    // offer_cache_entry), so a hit runs its check at batch 1, which is also
    // its first warm-up pass: the first pass of a process pays libtorch's
    // one-time work whatever its batch size, and this saves a whole one.
    // Their activations may reuse the weights' memory that optimise freed.
    huge_pages.forward_passes();
    st = guarded(source, IMGCLASS_ERR_MODEL, [&]() -> imgclass_status {
        const int checked_before = cw.from_cache ? 1 : 0;
        auto t0 = std::chrono::steady_clock::now();
        at::Tensor zeros = at::zeros({2 - checked_before, e->channels, e->height, e->width});
        at::Tensor scores = run_forward(*e, zeros);
        e->num_classes = (int)scores.size(1);
        e->check_ms = ms_since(t0);
        t0 = std::chrono::steady_clock::now();
        at::Tensor one = at::zeros({1, e->channels, e->height, e->width});
        for (int i = checked_before; i < config->warmup_runs; i++)
            run_forward(*e, one);
        e->warmup_ms = ms_since(t0);
        return IMGCLASS_OK;
    });
    if (st != IMGCLASS_OK) {
        if (e->quantized && qengine_users == 0)
            guarded(source, IMGCLASS_ERR_ENGINE, [&]() -> imgclass_status {
                if (previous != at::QEngine::NoQEngine)
                    at::globalContext().setQEngine(previous);
                return IMGCLASS_OK;
            });
        return st;
    }
    if (cw.wanted)
        offer_cache_entry(*e, cw, config);
    if (e->quantized) {
        qengine_in_use = e->qengine;
        qengine_users++;
    }
    *num_classes = e->num_classes;
    *out = e.release();
    return IMGCLASS_OK;
}

// libtorch 1.13's oneDNN refuses some quantized passes on a team of 2 or
// more threads: at small inputs (ResNet-18 at 32x32), a pass whose batch
// size differs from the first one's fails with "could not create a
// primitive descriptor for a reorder primitive" (plain PyTorch too;
// docs/engine.md, "Thread budget"). The same pass on a team of one works,
// with the same bits (integer arithmetic): it is retried there, once.
at::Tensor forward_or_retry_alone(const ic_engine &e, at::Tensor in)
{
    try {
        return run_forward(e, in);
    } catch (const std::exception &ex) {
        if (!e.quantized || at::get_num_threads() < 2 ||
            !strstr(ex.what(), "could not create a primitive descriptor"))
            throw;
    }
    const int team = at::get_num_threads();
    ic_engine_set_thread_team(1);
    try {
        at::Tensor out = run_forward(e, in);
        ic_engine_set_thread_team(team);
        return out;
    } catch (...) {
        ic_engine_set_thread_team(team);
        throw;
    }
}

extern "C" imgclass_status ic_engine_forward(const ic_engine *engine, const float *input,
                                             size_t count, float *out)
{
    return guarded(engine->source.c_str(), IMGCLASS_ERR_ENGINE, [&]() -> imgclass_status {
        // from_blob wraps the caller's batch without a copy; the engine only
        // reads it (const_cast because from_blob takes void*).
        at::Tensor in = at::from_blob(const_cast<float *>(input),
                                      {(int64_t)count, engine->channels, engine->height,
                                       engine->width},
                                      at::TensorOptions().dtype(at::kFloat));
        at::Tensor scores = forward_or_retry_alone(*engine, in);
        if (scores.size(1) != engine->num_classes)
            throw std::runtime_error("model returned " + std::to_string(scores.size(1)) +
                                     " classes, " + std::to_string(engine->num_classes) +
                                     " at load time");
        std::memcpy(out, scores.data_ptr<float>(),
                    (size_t)scores.numel() * sizeof(float));
        return IMGCLASS_OK;
    });
}

extern "C" void ic_engine_describe(const ic_engine *engine, ic_engine_description *out)
{
    out->quantized = engine->quantized;
    out->qengine = engine->quantized ? qengine_name(engine->qengine) : nullptr;
    out->optimize = engine->optimize_applied;
    out->bfloat16 = engine->bfloat16;
    out->deserialize_ms = engine->deserialize_ms;
    out->optimize_ms = engine->optimize_ms;
    out->check_ms = engine->check_ms;
    out->warmup_ms = engine->warmup_ms;
    out->cache = engine->cache;
    out->cache_refused = engine->cache_refused;
    out->cache_note = engine->cache_note.empty() ? nullptr : engine->cache_note.c_str();
    out->cache_entry_ms = engine->cache_entry_ms;
    out->freeze_ms = engine->freeze_ms;
}

extern "C" void ic_engine_free(ic_engine *engine)
{
    if (engine && engine->quantized) {
        std::lock_guard<std::mutex> lock(qengine_mutex);
        qengine_users--;
    }
    try {
        delete engine;
    } catch (...) {
        // Destructors of libtorch objects do not throw; nothing to report.
    }
}

extern "C" imgclass_status ic_engine_set_num_threads(int n)
{
    return guarded("imgclass", IMGCLASS_ERR_ENGINE, [&]() -> imgclass_status {
        at::set_num_threads(n);
        return IMGCLASS_OK;
    });
}

extern "C" int ic_engine_get_num_threads(void)
{
    try {
        return at::get_num_threads();
    } catch (...) {
        return 1;
    }
}

extern "C" void ic_engine_alloc_cache_stats(ic_engine_alloc_stats *out)
{
    alloc_cache::stats(out);
}

// Linked straight into a program (bench/engine_load_bench_linked, the
// baseline of make bench-startup), the engine has nothing left to start:
// libtorch initialised before main. In the engine module these two are
// never called: the core's loader (lib/engine_loader.c) implements them.
extern "C" imgclass_status ic_engine_start(const char *source)
{
    (void)source;
    return IMGCLASS_OK;
}

extern "C" int ic_engine_started(void)
{
    return 1;
}

extern "C" const char *ic_engine_version(void)
{
    return "libtorch " TORCH_VERSION;
}
