"""Reference timer for bench/preprocess_bench.sh: PIL + torchvision
preprocessing of encoded images held in memory, one thread.
    preprocess_bench.py [--reps N] [--bicubic] FILE...
--bicubic: EfficientNet-B0's recipe, Resize(256, BICUBIC) CenterCrop(224).
Prints the median over repetitions of the mean CPU time per image, in ms."""
import io
import sys
import time

import torch
from PIL import Image
from torchvision import transforms as T


def main():
    args = sys.argv[1:]
    reps = 5
    if args[:1] == ["--reps"]:
        reps, args = int(args[1]), args[2:]
    interp = T.InterpolationMode.BILINEAR
    if args[:1] == ["--bicubic"]:
        interp, args = T.InterpolationMode.BICUBIC, args[1:]
    torch.set_num_threads(1)
    blobs = [open(f, "rb").read() for f in args]
    t = T.Compose([T.Resize(256, interpolation=interp), T.CenterCrop(224), T.ToTensor(),
                   T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    times = []
    for r in range(reps + 1):  # the first round warms up
        t0 = time.thread_time()
        for b in blobs:
            t(Image.open(io.BytesIO(b)).convert("RGB"))
        if r:
            times.append((time.thread_time() - t0) * 1e3 / len(blobs))
    times.sort()
    print("%.4f" % times[len(times) // 2])


if __name__ == "__main__":
    main()
