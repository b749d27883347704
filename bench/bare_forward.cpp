// Bare libtorch forward, the ceiling for the library: the same model in the
// library's default configuration (eval + torch::jit::freeze, inference
// mode), nothing else. Bench code, not library code.
//
//   bare_forward MODEL [--batch N] [--threads N] [--seconds S] [--no-freeze]
//                [--for-inference] [--channels-last]
#include <torch/script.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char **argv)
{
    const char *path = nullptr;
    int batch = 1, threads = 2;
    double seconds = 3.0;
    bool freeze = true, for_inference = false, channels_last = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--batch" && i + 1 < argc)
            batch = std::atoi(argv[++i]);
        else if (a == "--threads" && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else if (a == "--seconds" && i + 1 < argc)
            seconds = std::atof(argv[++i]);
        else if (a == "--no-freeze")
            freeze = false;
        else if (a == "--for-inference")
            for_inference = true;
        else if (a == "--channels-last")
            channels_last = true;
        else if (a[0] != '-' && !path)
            path = argv[i];
        else {
            std::fprintf(stderr, "usage: bare_forward MODEL [--batch N] [--threads N] "
                                 "[--seconds S] [--no-freeze] [--for-inference] "
                                 "[--channels-last]\n");
            return 2;
        }
    }
    if (!path)
        return 2;
    at::set_num_threads(threads);
    try {
        torch::jit::Module m = torch::jit::load(path);
        m.eval();
        if (for_inference)
            m = torch::jit::optimize_for_inference(m);
        else if (freeze)
            m = torch::jit::freeze(m);
        at::manual_seed(1);
        at::Tensor x = at::rand({batch, 3, 224, 224}) * 4 - 2;
        c10::InferenceMode guard;
        auto run = [&]() {
            at::Tensor in = channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
            return m.forward({in}).toTensor();
        };
        for (int i = 0; i < 6; i++) // the load-time check + warm-up + 5, as the library
            run();
        using clock = std::chrono::steady_clock;
        int iters = 0;
        double t = 0;
        auto t0 = clock::now();
        do {
            run();
            iters++;
            t = std::chrono::duration<double>(clock::now() - t0).count();
        } while (t < seconds || iters < 5);
        std::printf("bare-c++ batch=%d freeze=%d for-inference=%d channels-last=%d threads=%d: "
                    "%.2f img/s (%.2f ms/batch, %d iters)\n",
                    batch, freeze, for_inference, channels_last, at::get_num_threads(),
                    iters * batch / t, t * 1e3 / iters, iters);
    } catch (const c10::Error &e) {
        std::fprintf(stderr, "bare_forward: %s\n", e.what_without_backtrace());
        return 1;
    }
    return 0;
}
