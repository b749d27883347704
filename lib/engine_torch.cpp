// The libtorch engine: the only C++ file of the library and the only one
// that includes libtorch. It implements lib/engine.h. Every C++ exception is
// caught here and becomes a status plus a message (c10 errors without their
// backtrace), so nothing C++ ever crosses into the C code.
#include <torch/script.h>
#include <torch/version.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include <cstring>
#include <memory>
#include <new>
#include <string>

extern "C" {
#include "engine.h"
#include "error.h"
}

struct ic_engine {
    // A Module is a handle (a reference-counted pointer to the script
    // object). After load nothing mutates it; forward() copies the handle,
    // and TorchScript's executor is thread-safe for concurrent calls.
    torch::jit::Module module;
    c10::Device device{c10::kCPU};
    std::string source;
    int channels = 0, height = 0, width = 0;
    int num_classes = 0;
    bool softmax = true;
    bool channels_last = false;
    bool bfloat16 = false;
};

namespace {

// The value of an extra file the archive does not hold (see ic_engine_load).
const std::string kAbsent("\x01imgclass: absent\x01");

// Lets torch::jit::load read an archive straight from the caller's buffer,
// without copying it into a stream.
class MemoryReadAdapter : public caffe2::serialize::ReadAdapterInterface {
public:
    MemoryReadAdapter(const void *data, size_t size)
        : data_(static_cast<const char *>(data)), size_(size) {}
    size_t size() const override { return size_; }
    size_t read(uint64_t pos, void *buf, size_t n, const char *) const override
    {
        if (pos >= size_)
            return 0;
        if (n > size_ - pos)
            n = size_ - pos;
        std::memcpy(buf, data_ + pos, n);
        return n;
    }

private:
    const char *data_;
    size_t size_;
};

// Runs `fn`, turning any exception into ic_error(status_on_error, ...).
template <typename Fn>
imgclass_status guarded(const char *source, imgclass_status status_on_error, Fn fn)
{
    try {
        return fn();
    } catch (const c10::Error &e) {
        return ic_error(status_on_error, "%s: %s: %s", source, imgclass_status_str(status_on_error),
                        e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        return ic_error_oom(source, "engine memory");
    } catch (const std::exception &e) {
        return ic_error(status_on_error, "%s: %s: %s", source, imgclass_status_str(status_on_error),
                        e.what());
    } catch (...) {
        return ic_error(status_on_error, "%s: %s: unknown C++ exception", source,
                        imgclass_status_str(status_on_error));
    }
}

// The forward pass proper: input tensor in, float [N, K] tensor on the CPU
// out (softmax applied if asked). Throws on any engine failure.
at::Tensor run_forward(const ic_engine &e, at::Tensor input)
{
    c10::InferenceMode guard;
    if (e.channels_last)
        input = input.contiguous(at::MemoryFormat::ChannelsLast);
    if (e.bfloat16)
        input = input.to(at::kBFloat16);
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

} // namespace

extern "C" imgclass_status ic_engine_load(const void *data, size_t size, const char *source,
                                          const ic_engine_config *config, ic_engine **out,
                                          int *num_classes)
{
    if (!source)
        source = "memory buffer";
    if (config->device_is_cuda && !at::hasCUDA())
        return ic_error(IMGCLASS_ERR_DEVICE,
                        "cuda:%d: device unavailable: this libtorch was built without CUDA "
                        "(only \"cpu\" works)",
                        config->device_index);
    std::unique_ptr<ic_engine> e;
    std::unique_ptr<std::string> extra_file;
    imgclass_status st = guarded(source, IMGCLASS_ERR_MODEL, [&]() -> imgclass_status {
        e.reset(new ic_engine);
        e->source = source;
        e->channels = config->input_channels;
        e->height = config->input_height;
        e->width = config->input_width;
        e->softmax = config->softmax != 0;
        e->channels_last = (config->optimize & IMGCLASS_OPT_CHANNELS_LAST) != 0;
        e->bfloat16 = (config->optimize & IMGCLASS_OPT_BFLOAT16) != 0;
        if (config->device_is_cuda)
            e->device = c10::Device(c10::kCUDA, (c10::DeviceIndex)config->device_index);
        auto reader = std::make_shared<MemoryReadAdapter>(data, size);
        // load() overwrites the value only when the archive holds the file,
        // so a sentinel no real recipe holds tells "absent" from "empty".
        torch::jit::ExtraFilesMap extra;
        if (config->extra_file)
            extra[config->extra_file] = kAbsent;
        torch::jit::Module module = torch::jit::load(reader, e->device, extra);
        if (config->extra_file && extra[config->extra_file] != kAbsent)
            extra_file.reset(new std::string(std::move(extra[config->extra_file])));
        module.eval();
        if (e->bfloat16)
            module.to(at::kBFloat16);
        // optimize_for_inference freezes first when the module is not frozen.
        if (config->optimize & IMGCLASS_OPT_FOR_INFERENCE)
            module = torch::jit::optimize_for_inference(module);
        else if (config->optimize & IMGCLASS_OPT_FREEZE)
            module = torch::jit::freeze(module);
        e->module = module;
        return IMGCLASS_OK;
    });
    if (st != IMGCLASS_OK)
        return st;
    if (config->on_extra_file) {
        // C code: reports through ic_error() and never throws.
        st = config->on_extra_file(config->extra_ctx, extra_file ? extra_file->data() : NULL,
                                   extra_file ? extra_file->size() : 0, &e->height, &e->width);
        if (st != IMGCLASS_OK)
            return st;
    }
    // The shape check: batch 2, so a model that drops or hard-codes the
    // batch dimension is caught, then the warm-up runs at batch 1.
    st = guarded(source, IMGCLASS_ERR_MODEL, [&]() -> imgclass_status {
        at::Tensor zeros = at::zeros({2, e->channels, e->height, e->width});
        at::Tensor scores = run_forward(*e, zeros);
        e->num_classes = (int)scores.size(1);
        at::Tensor one = at::zeros({1, e->channels, e->height, e->width});
        for (int i = 0; i < config->warmup_runs; i++)
            run_forward(*e, one);
        return IMGCLASS_OK;
    });
    if (st != IMGCLASS_OK)
        return st;
    *num_classes = e->num_classes;
    *out = e.release();
    return IMGCLASS_OK;
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
        at::Tensor scores = run_forward(*engine, in);
        if (scores.size(1) != engine->num_classes)
            throw std::runtime_error("model returned " + std::to_string(scores.size(1)) +
                                     " classes, " + std::to_string(engine->num_classes) +
                                     " at load time");
        std::memcpy(out, scores.data_ptr<float>(),
                    (size_t)scores.numel() * sizeof(float));
        return IMGCLASS_OK;
    });
}

extern "C" void ic_engine_free(ic_engine *engine)
{
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

extern "C" const char *ic_engine_version(void)
{
    return "libtorch " TORCH_VERSION;
}
