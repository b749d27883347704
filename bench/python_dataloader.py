#!/usr/bin/python3
"""Images per second through a torch DataLoader over an ImageFolder tree:
torchvision's ImageFolder with the eval transform (Resize(256),
CenterCrop(224), ToTensor, Normalize), or imgclass.torch.ImageFolder, the
drop-in (imgclass-fast: with Transform(fast=True), inexact reduced-scale JPEG
decoding, for reference only). Same batch size and workers; one warm-up epoch starts the
(persistent) workers, then --epochs timed epochs. Prints "N img/s".

    python_dataloader.py torchvision|imgclass|imgclass-fast ROOT [--workers 2] [--batch 32] [--epochs 2]
"""
import argparse
import sys
import time

import torch


def dataset(kind, root):
    if kind.startswith("imgclass"):
        from imgclass.torch import ImageFolder, Transform
        return ImageFolder(root, transform=Transform(fast=kind == "imgclass-fast"))
    from torchvision import datasets
    from torchvision import transforms as T
    return datasets.ImageFolder(root, transform=T.Compose([
        T.Resize(256), T.CenterCrop(224), T.ToTensor(),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=["torchvision", "imgclass", "imgclass-fast"])
    ap.add_argument("root")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = dataset(args.kind, args.root)
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch, num_workers=args.workers,
                                         persistent_workers=args.workers > 0)
    for _ in loader:  # warm-up: workers start, files enter the page cache
        pass
    n = 0
    start = time.perf_counter()
    for _ in range(args.epochs):
        for x, _y in loader:
            n += x.shape[0]
    seconds = time.perf_counter() - start
    print(f"{args.kind}: {n / seconds:.2f} img/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
