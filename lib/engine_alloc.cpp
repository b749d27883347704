// The load allocator: huge pages for the large tensors of a model load.
//
// Why: a model load writes every weight into fresh memory several times
// (deserialize, conv/batch-norm folding, the MKLDNN reorder), ~45 MB each
// time for ResNet-18. With 4 KiB pages that is ~11,500 page faults per
// copy, and on a virtual machine a fault is expensive: on the 2-core VM of
// docs/engine.md ("Cold start") faults were about half of the load's time.
// With 2 MiB pages the same copy takes ~23 faults. Only the memory changes:
// the same kernels run on the same bytes, so the scores are the same bits
// (docs/engine.md, "Cold start", says how that was checked).
//
// How: a c10::Allocator put in front of libtorch's default CPU allocator.
// On a thread inside a model load (LoadScope), an allocation of 2 MiB or
// more is an anonymous mapping of whole 2 MiB pages advised MADV_HUGEPAGE
// (lib/huge_pages.c; the kernel's THP setting "madvise", Debian's default,
// honours it; "never" gives 4 KiB pages). Blocks freed during the load are
// kept for its later allocations, so the weights that optimisation
// replaces become the shape check's activations without new faults.
// Everything else, including every allocation of the forward passes after
// the load, goes to the default allocator unchanged, so steady-state
// inference is as before.
//
// Freeing: a tensor's memory carries its own deleter, so each block goes
// back where it came from. oneDNN (ideep) buffers do not: ATen frees them
// through the *current* CPU allocator's raw_deleter(), which here looks the
// pointer up among the mappings made here and hands any other pointer to
// the default allocator's deleter. For that reason the allocator, once
// installed, stays installed for the life of the process.
//
// IMGCLASS_HUGE_PAGES=0 in the environment at the first load turns it off
// (for comparisons, or a machine whose memory is too fragmented for huge
// pages to be cheap).
#include "engine_alloc.h"

#include <c10/core/CPUAllocator.h>

extern "C" {
#include "huge_pages.h"
}

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

namespace ic_alloc {
namespace {

// The default allocator, found at install (never changes afterwards).
c10::Allocator *fallback = nullptr;
// Loads in progress on this thread (nested scopes count).
thread_local int loading = 0;
// Set by LoadScope::forward_passes().
thread_local bool in_forward_passes = false;
// The smallest allocation a kept block serves in forward_passes() (the
// default allocator's own mmap threshold is 128 KiB).
constexpr size_t kReuseMin = size_t(64) << 10;

// Everything below is guarded by this mutex.
std::mutex mutex;
// The blocks handed out: start -> mapped length. Leaked on purpose, like
// the allocator itself (a free may come during the process's exit).
std::unordered_map<void *, size_t> *in_use;
// Blocks freed while a load runs, kept for that load's next allocations
// (mapped length -> start): the weights replaced by the optimised ones
// become the shape check's activations without a fault. Emptied (unmapped)
// when the last load ends.
std::multimap<size_t, void *> *kept;
int loads = 0; // LoadScopes alive, on any thread

// Unmaps a block made here (or keeps it for the load in progress), or
// hands the pointer to the default allocator.
void free_block(void *p)
{
    if (!p)
        return;
    size_t length = 0;
    {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = in_use->find(p);
        if (it != in_use->end()) {
            length = it->second;
            in_use->erase(it);
            if (loads > 0) {
                try {
                    kept->emplace(length, p);
                    return;
                } catch (...) {
                    // No room to keep it: unmapped below.
                }
            }
        }
    }
    if (length)
        ic_huge_free(p, length);
    else
        fallback->raw_deleter()(p);
}

// A kept block of at least n bytes, the smallest there is, and unless
// any_size at most twice n (a bigger one would waste memory for as long as
// the tensor lives); else, for n >= IC_HUGE_MIN, a new mapping. The block
// is registered in in_use. NULL when none can be had.
void *take_block(size_t n, bool any_size)
{
    size_t length = 0;
    void *p = nullptr;
    try {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = kept->lower_bound(n);
        if (it != kept->end() && (any_size || it->first / 2 <= n)) {
            length = it->first;
            p = it->second;
            kept->erase(it);
            in_use->emplace(p, length);
            return p;
        }
    } catch (...) {
        if (p) // taken but not registered
            ic_huge_free(p, length);
        return nullptr;
    }
    if (n < IC_HUGE_MIN)
        return nullptr;
    p = ic_huge_alloc(n, &length);
    if (!p)
        return nullptr;
    try {
        std::lock_guard<std::mutex> lock(mutex);
        in_use->emplace(p, length);
    } catch (...) {
        ic_huge_free(p, length);
        return nullptr;
    }
    return p;
}

class LoadAllocator final : public c10::Allocator {
public:
    c10::DataPtr allocate(size_t n) const override
    {
        if (loading > 0 && (n >= IC_HUGE_MIN || (in_forward_passes && n >= kReuseMin))) {
            if (void *p = take_block(n, in_forward_passes))
                return {p, p, &free_block, c10::Device(c10::DeviceType::CPU)};
        }
        return fallback->allocate(n);
    }
    c10::DeleterFnPtr raw_deleter() const override { return &free_block; }
};

LoadAllocator load_allocator;

bool wanted()
{
    const char *v = std::getenv("IMGCLASS_HUGE_PAGES");
    return !(v && std::strcmp(v, "0") == 0);
}

} // namespace

void install()
{
    static std::once_flag once;
    try {
        std::call_once(once, [] {
            c10::Allocator *current = c10::GetCPUAllocator();
            // A host that set its own CPU allocator keeps it.
            if (!wanted() || current != c10::GetDefaultCPUAllocator() ||
                !current->raw_deleter())
                return;
            in_use = new std::unordered_map<void *, size_t>();
            kept = new std::multimap<size_t, void *>();
            fallback = current;
            c10::SetCPUAllocator(&load_allocator, /*priority=*/0);
        });
    } catch (...) {
        // Not installed: loads run on the default allocator, as before.
    }
}

LoadScope::LoadScope() : was_forward_passes_(in_forward_passes)
{
    loading++;
    std::lock_guard<std::mutex> lock(mutex);
    loads++;
}

void LoadScope::forward_passes()
{
    in_forward_passes = true;
}

LoadScope::~LoadScope()
{
    loading--;
    in_forward_passes = was_forward_passes_;
    std::multimap<size_t, void *> drop;
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (--loads == 0 && kept)
            drop.swap(*kept);
    }
    for (auto &block : drop)
        ic_huge_free(block.second, block.first);
}

} // namespace ic_alloc
