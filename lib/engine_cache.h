/* Internal, engine module only (C++): the engine's half of the model cache
 * (docs/engine.md, "Cold start"). The core finds, checks, reads and writes
 * the entries (lib/model_cache.c); the engine makes an entry's archive from
 * a load and decides whether it may be used (lib/engine_cache.cpp). */
#ifndef IMGCLASS_ENGINE_CACHE_H
#define IMGCLASS_ENGINE_CACHE_H

#ifdef __cplusplus

#include <torch/script.h>

#include <cstddef>
#include <string>

namespace ic_cache {

/* An entry's archive being made: a growing buffer on huge pages (the
 * archive is about the size of the model). Not copyable. */
class Archive {
public:
    explicit Archive(size_t expected);
    ~Archive();
    Archive(const Archive &) = delete;
    Archive &operator=(const Archive &) = delete;
    /* Appends n bytes; throws std::bad_alloc when the buffer cannot grow. */
    void append(const void *data, size_t n);
    const void *data() const { return data_; }
    size_t size() const { return size_; }

private:
    char *data_ = nullptr;
    size_t size_ = 0, capacity_ = 0, mapped_ = 0;
};

/* `frozen` (a module torch::jit::freeze made) as a TorchScript archive,
 * with the extra file `extra_name` holding *extra when extra is not NULL
 * (the model's recipe, copied from its archive). `expected`: its likely
 * size. Throws on failure. */
void save(const torch::jit::Module &frozen, const char *extra_name, const std::string *extra,
          Archive *out);

/* Whether an entry made of `archive` would give the same answers as the
 * load that made it: the archive is loaded back, optimised as the load
 * optimised the module it froze (optimize_for_inference or not), and its
 * forward graph compared with `final_graph`, the graph that load runs
 * (lib/engine_graph_equal.h). When not, `why` says where they part. Throws
 * when libtorch fails. */
bool reproduces(const Archive &archive, bool for_inference, const torch::jit::Graph &final_graph,
                c10::Device device, std::string *why);

} // namespace ic_cache

#endif
#endif
