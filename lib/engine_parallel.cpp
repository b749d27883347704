// ic_engine_parallel() (lib/engine.h): tasks on the calling thread's
// intra-op team. Compiled with -fopenmp (the Makefile): at::parallel_for is
// a header template whose parallel region is an OpenMP pragma, which a
// compiler without -fopenmp drops, running every task on the caller. The
// region joins libtorch's own libgomp, so the team is the one its forward
// passes use.
#include "engine.h"

#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

// One parallel region of the calling thread's team (at::parallel_for: the
// same OpenMP team as its forward passes, whose threads are awake and
// at the engine's priority), as many threads as tasks at most; inside it
// each thread takes the next task from a shared counter, because the tasks
// (decoding photos of different sizes) are uneven. Nested in a parallel
// region, at::parallel_for runs it all on the calling thread.
extern "C" void ic_engine_parallel(size_t n, ic_engine_task_fn fn, void *ctx)
{
    if (n == 0)
        return;
    std::atomic<size_t> next{0};
    auto drain = [&]() {
        for (size_t i; (i = next.fetch_add(1)) < n;)
            fn(ctx, i);
    };
    int64_t team = std::min<int64_t>(std::max(1, at::get_num_threads()), (int64_t)n);
    try {
        at::parallel_for(0, team, 1, [&](int64_t, int64_t) { drain(); });
    } catch (...) {
        // Only libtorch can throw here (fn is C); what it left undone runs
        // on this thread.
    }
    drain();
}

// The calling thread's team size. OpenMP keeps it per thread (the
// nthreads-var ICV), and libtorch's forward passes, oneDNN's kernels and
// at::parallel_for all read the caller's. libtorch's source may also set it
// once per thread, lazily, from the process-wide count
// (at::internal::lazy_init_num_threads): that is run here first, so that a
// later parallel call of this thread cannot undo this one.
extern "C" void ic_engine_set_thread_team(int n)
{
    try {
        at::internal::lazy_init_num_threads();
    } catch (...) {
    }
    omp_set_num_threads(n < 1 ? 1 : n);
}
