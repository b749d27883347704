#!/usr/bin/python3
"""The standard Python pipeline, as TorchServe's image classifier runs it:
Pillow decode, torchvision transforms, batch, TorchScript forward under
inference_mode, softmax, top-1, one line per image.

    e2e_reference.py MODEL.pt OUT.tsv --batch 8 --threads 2 FILE...

Writes `path<TAB>index<TAB>probability` per image, in input order; an image
that fails to decode gets `path<TAB>error<TAB>message`.
"""
import argparse
import sys

import torch
import torchvision.transforms as T
from PIL import Image


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    model = torch.jit.load(args.model, map_location="cpu").eval()
    transform = T.Compose([
        T.Resize(256), T.CenterCrop(224), T.ToTensor(),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    with open(args.out, "w") as out, torch.inference_mode():
        for start in range(0, len(args.files), args.batch):
            chunk = args.files[start:start + args.batch]
            tensors, ok_paths = [], []
            for path in chunk:
                try:
                    with Image.open(path) as im:
                        tensors.append(transform(im.convert("RGB")))
                    ok_paths.append(path)
                except Exception as e:  # a bad image fails alone
                    out.write(f"{path}\terror\t{e}\n")
            if not tensors:
                continue
            probs = torch.softmax(model(torch.stack(tensors)), dim=1)
            best_p, best_i = probs.max(dim=1)
            for path, i, p in zip(ok_paths, best_i.tolist(), best_p.tolist()):
                out.write(f"{path}\t{i}\t{p:.9g}\n")


if __name__ == "__main__":
    sys.exit(main())
