/* Internal, engine module only (C++): large tensors allocated while a model
 * loads go to transparent huge pages (lib/engine_alloc.cpp says why). */
#ifndef IMGCLASS_ENGINE_ALLOC_H
#define IMGCLASS_ENGINE_ALLOC_H

#ifdef __cplusplus

namespace ic_alloc {

/* Puts the load allocator in front of libtorch's CPU allocator, once per
 * process; later calls do nothing. Call it before the first tensor of the
 * engine exists (the first model load), as libtorch's SetCPUAllocator is
 * not safe against concurrent allocations. Never throws. */
void install();

/* While one lives on a thread, that thread's large allocations (weights,
 * the shape check's activations) are huge-page backed. */
class LoadScope {
public:
    LoadScope();
    ~LoadScope();
    /* From here to the scope's end the thread runs forward passes, whose
     * tensors die with them: blocks freed earlier in the load may serve
     * any of their allocations of 64 KiB or more, whatever the waste. */
    void forward_passes();
    LoadScope(const LoadScope &) = delete;
    LoadScope &operator=(const LoadScope &) = delete;

private:
    bool was_forward_passes_;
};

} // namespace ic_alloc

#endif
#endif
