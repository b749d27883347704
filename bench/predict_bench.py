#!/usr/bin/env python3
"""Python side of bench/predict_bench.sh: torch.jit.load + inference_mode,
the way a Python user would run the same TorchScript model.

    predict_bench.py MODEL [--batch N] [--threads N] [--seconds S]
"""
import argparse
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--qengine", help="quantized engine for an int8 model (set before load)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.qengine:
        torch.backends.quantized.engine = a.qengine
    m = torch.jit.load(a.model).eval()
    torch.manual_seed(1)
    x = torch.rand(a.batch, 3, 224, 224) * 4 - 2
    with torch.inference_mode():
        # Same warm-up as the library side: the profiling executor needs the
        # first calls to specialise (load-time check + warm-up + 5).
        for _ in range(7):
            torch.softmax(m(x), 1)
        iters, t0 = 0, time.perf_counter()
        while True:
            torch.softmax(m(x), 1)
            iters += 1
            t = time.perf_counter() - t0
            if t >= a.seconds and iters >= 5:
                break
    print(f"python batch={a.batch} threads={torch.get_num_threads()}: {iters * a.batch / t:.2f} "
          f"img/s ({t * 1e3 / iters:.2f} ms/batch, {iters} iters)")


if __name__ == "__main__":
    main()
