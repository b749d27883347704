// The engine's half of the model cache (see the header and docs/engine.md,
// "Cold start"): an entry holds the model as torch::jit::freeze left it
// (batch norms folded into the convolutions), which libtorch 1.13 can save
// and load again; the step after it, optimize_for_inference's conversion
// to MKLDNN's prepacked weights, cannot be saved and runs at every load.
#include "engine_cache.h"

#include "engine_graph_equal.h"
#include "engine_memory_reader.h"

extern "C" {
#include "huge_pages.h"
}

#include <torch/csrc/jit/serialization/export.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace ic_cache {

Archive::Archive(size_t expected)
{
    // Room for the model's own size and a little: growing copies it all.
    size_t want = expected + (size_t(1) << 20);
    if (want >= IC_HUGE_MIN)
        data_ = static_cast<char *>(ic_huge_alloc(want, &mapped_));
    if (!data_) {
        mapped_ = 0;
        data_ = static_cast<char *>(std::malloc(want));
    }
    if (!data_)
        throw std::bad_alloc();
    capacity_ = want;
}

Archive::~Archive()
{
    if (mapped_)
        ic_huge_free(data_, mapped_);
    else
        std::free(data_);
}

void Archive::append(const void *data, size_t n)
{
    if (n > capacity_ - size_) {
        size_t want = capacity_ * 2;
        if (want < size_ + n || want < capacity_)
            want = size_ + n;
        size_t mapped = 0;
        char *bigger = static_cast<char *>(ic_huge_alloc(want, &mapped));
        if (!bigger)
            throw std::bad_alloc();
        std::memcpy(bigger, data_, size_);
        if (mapped_)
            ic_huge_free(data_, mapped_);
        else
            std::free(data_);
        data_ = bigger;
        mapped_ = mapped;
        capacity_ = want;
    }
    std::memcpy(data_ + size_, data, n);
    size_ += n;
}

void save(const torch::jit::Module &frozen, const char *extra_name, const std::string *extra,
          Archive *out)
{
    torch::jit::ExtraFilesMap files;
    if (extra_name && extra)
        files[extra_name] = *extra;
    torch::jit::ExportModule(
        frozen,
        [out](const void *data, size_t n) -> size_t {
            out->append(data, n);
            return n;
        },
        files);
}

bool reproduces(const Archive &archive, bool for_inference, const torch::jit::Graph &final_graph,
                c10::Device device, std::string *why)
{
    auto reader = std::make_shared<MemoryReadAdapter>(archive.data(), archive.size());
    torch::jit::Module copy = torch::jit::load(reader, device);
    // As a cache hit will run it (lib/engine_torch.cpp, optimise()).
    if (for_inference)
        copy = torch::jit::optimize_for_inference(copy);
    return ic_graph::same_computation(final_graph, *copy.get_method("forward").graph(), why);
}

} // namespace ic_cache
