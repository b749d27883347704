#!/usr/bin/env python3
"""Export a torchvision classifier to TorchScript for imgclass.

Writes MODEL.pt (or MODEL.pt.gz) and, beside it, a labels file with the 1000
ImageNet category names torchvision ships (one per line).

  export_model.py [--arch resnet18] (--weights imagenet | --state-dict FILE |
                  --random-seed N) [--gzip] [--labels FILE] OUTPUT

Exit codes: 0 ok, 2 usage error, 3 no network for --weights imagenet,
4 bad state dict, 1 anything else.
Run it with /usr/bin/python3 (Debian's torch + torchvision).
"""
import argparse
import gzip
import io
import os
import sys

EXIT_USAGE, EXIT_NO_NETWORK, EXIT_BAD_STATE_DICT = 2, 3, 4


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Export a torchvision ImageNet classifier to TorchScript "
                    "(plus its labels file) for imgclass.")
    p.add_argument("output", help="output file (.pt, or .pt.gz for gzip)")
    p.add_argument("--arch", default="resnet18",
                   help="torchvision architecture name (default resnet18)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", choices=["imagenet"],
                     help="download the pretrained ImageNet weights (needs network)")
    src.add_argument("--state-dict", metavar="FILE",
                     help="load local weights (a state dict saved with torch.save)")
    src.add_argument("--random-seed", type=int, metavar="N",
                     help="seeded RANDOM weights: for tests and benchmarks only")
    p.add_argument("--gzip", action="store_true",
                   help="gzip the archive (implied by an output name ending .gz)")
    p.add_argument("--script", action="store_true",
                   help="use torch.jit.script instead of torch.jit.trace")
    p.add_argument("--labels", metavar="FILE",
                   help="labels file to write (default: OUTPUT without .pt[.gz] + .labels.txt)")
    p.add_argument("--size", type=int, default=224, help="input height and width for tracing")
    return p.parse_args(argv)


def imagenet_categories(models):
    # Every torchvision ImageNet weight enum carries the same category names.
    return list(models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def build(args, torch, models):
    try:
        builder = models.get_model_builder(args.arch)
    except ValueError:
        print(f"export_model.py: unknown architecture {args.arch!r}; try one of "
              f"{', '.join(sorted(models.list_models())[:10])}, ...", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    if args.random_seed is not None:
        print("#" * 72 + "\n# WARNING: RANDOM WEIGHTS (seed %d): this model classifies nothing.\n"
              "# It is for tests and benchmarks only.\n" % args.random_seed + "#" * 72,
              file=sys.stderr)
        torch.manual_seed(args.random_seed)
        return builder(weights=None)
    if args.state_dict:
        model = builder(weights=None)
        try:
            state = torch.load(args.state_dict, map_location="cpu")
            if isinstance(state, dict) and "state_dict" in state:
                state = state["state_dict"]
            model.load_state_dict(state)
        except Exception as e:  # noqa: BLE001 - reported, then a distinct exit code
            print(f"export_model.py: {args.state_dict}: cannot load weights: {e}",
                  file=sys.stderr)
            sys.exit(EXIT_BAD_STATE_DICT)
        return model
    weights = models.get_model_weights(args.arch).DEFAULT
    try:
        return builder(weights=weights)
    except Exception as e:  # noqa: BLE001 - urllib raises several kinds
        print(f"export_model.py: cannot download the pretrained weights for {args.arch} "
              f"({weights.url}): {e}\nNo network? Copy the .pth file into "
              f"~/.cache/torch/hub/checkpoints/ or pass --state-dict FILE.",
              file=sys.stderr)
        sys.exit(EXIT_NO_NETWORK)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import torch
    from torchvision import models

    model = build(args, torch, models).eval()
    example = torch.zeros(1, 3, args.size, args.size)
    with torch.no_grad():
        scripted = torch.jit.script(model) if args.script else torch.jit.trace(model, example)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    data = buf.getvalue()
    compress = args.gzip or args.output.endswith(".gz")
    with open(args.output, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if compress else data)

    labels = args.labels
    if labels is None:
        base = args.output
        for ext in (".gz", ".pt", ".pth"):
            if base.endswith(ext):
                base = base[: -len(ext)]
        labels = base + ".labels.txt"
    with open(labels, "w", encoding="utf-8") as f:
        f.write("\n".join(imagenet_categories(models)) + "\n")
    print(f"wrote {args.output} ({args.arch}, {'gzip' if compress else 'plain'}) and {labels}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
