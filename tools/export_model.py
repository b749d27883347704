#!/usr/bin/env python3
"""Export a torchvision classifier to TorchScript for imgclass.

Writes MODEL.pt (or MODEL.pt.gz) and, beside it, a labels file with the 1000
ImageNet category names torchvision ships (one per line).

  export_model.py [--arch resnet18 | --module FILE.py:NAME]
                  (--weights imagenet | --state-dict FILE | --random-seed N)
                  [--quantize int8 --calibrate DIR [--calibrate-count N]
                   [--qengine onednn|qnnpack] [--preprocess "ARGS"]]
                  [--gzip] [--labels FILE] OUTPUT

--quantize int8 runs post-training static quantization (torch.ao FX graph
mode) calibrated on images from DIR that imgclass itself preprocesses (its
CLI's `preprocess --npy`, with ARGS), so calibration sees exactly the
tensors inference will; it saves a frozen TorchScript model and prints the
float32 vs int8 agreement on the calibration images (tools/quantize.py).

Exit codes: 0 ok, 2 usage error, 3 no network for --weights imagenet,
4 bad state dict, 5 calibration images unusable, 1 anything else.
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
    p.add_argument("--module", metavar="FILE.py:NAME",
                   help="build the model from an nn.Module class or factory NAME in FILE.py "
                        "(called with no arguments) instead of --arch; no labels file is "
                        "written unless --labels names one")
    q = p.add_argument_group("int8 quantization")
    q.add_argument("--quantize", choices=["int8"],
                   help="post-training static quantization (needs --calibrate)")
    q.add_argument("--calibrate", metavar="DIR",
                   help="calibration images (JPEG, PNG, ...), preprocessed by imgclass")
    q.add_argument("--calibrate-count", type=int, default=100, metavar="N",
                   help="calibration images to use, the first N by name (default 100)")
    q.add_argument("--qengine", choices=["onednn", "qnnpack"], default="onednn",
                   help="quantized engine the model is built for (default onednn; run it "
                        "with the same one, docs/engine.md)")
    q.add_argument("--preprocess", default="", metavar="ARGS",
                   help="options for `imgclass preprocess` (default: the ImageNet recipe), "
                        "e.g. \"--size 32x32 --crop none\"")
    q.add_argument("--imgclass", metavar="PATH",
                   help="the imgclass CLI (default: build/imgclass of this source tree, "
                        "else imgclass on PATH)")
    args = p.parse_args(argv)
    if args.quantize and not args.calibrate:
        p.error("--quantize int8 needs --calibrate DIR (static quantization calibrates "
                "on images)")
    if args.calibrate and not args.quantize:
        p.error("--calibrate is for --quantize int8")
    if args.calibrate_count < 1:
        p.error("--calibrate-count must be at least 1")
    return args


def imagenet_categories(models):
    # Every torchvision ImageNet weight enum carries the same category names.
    return list(models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def build_module(args, torch):
    """A model from --module FILE.py:NAME (a class or a factory)."""
    import importlib.util
    path, _, name = args.module.rpartition(":")
    if not path or not name:
        print(f"export_model.py: --module {args.module!r}: expected FILE.py:NAME",
              file=sys.stderr)
        sys.exit(EXIT_USAGE)
    try:
        spec = importlib.util.spec_from_file_location("export_user_module", path)
        if spec is None:
            raise ImportError("not a Python file")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        factory = getattr(mod, name)
    except (OSError, ImportError, AttributeError, SyntaxError) as e:
        print(f"export_model.py: --module {args.module}: {e}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    if args.random_seed is not None:
        torch.manual_seed(args.random_seed)
    model = factory()
    if not isinstance(model, torch.nn.Module):
        print(f"export_model.py: --module {args.module}: {name}() returned a "
              f"{type(model).__name__}, not a torch.nn.Module", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    if args.weights:
        print("export_model.py: --weights imagenet is for --arch; give --module a "
              "--state-dict", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    if args.state_dict:
        load_state(args, torch, model)
    return model


def load_state(args, torch, model):
    try:
        state = torch.load(args.state_dict, map_location="cpu")
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        model.load_state_dict(state)
    except Exception as e:  # noqa: BLE001 - reported, then a distinct exit code
        print(f"export_model.py: {args.state_dict}: cannot load weights: {e}",
              file=sys.stderr)
        sys.exit(EXIT_BAD_STATE_DICT)


def build(args, torch, models):
    if args.module:
        return build_module(args, torch)
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
        load_state(args, torch, model)
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
    if args.quantize:
        import quantize
        scripted = quantize.quantize_int8(args, torch, model, example)
    else:
        with torch.no_grad():
            scripted = (torch.jit.script(model) if args.script
                        else torch.jit.trace(model, example))
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    data = buf.getvalue()
    compress = args.gzip or args.output.endswith(".gz")
    with open(args.output, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if compress else data)

    labels = args.labels
    what = args.module or args.arch
    if args.quantize:
        what += f", int8 {args.qengine}"
    if args.module and labels is None:
        print(f"wrote {args.output} ({what}, {'gzip' if compress else 'plain'}); no labels "
              f"file (--module: give --labels to write one)", file=sys.stderr)
        return 0
    if args.module:
        # A custom model's classes have no names here: number them.
        with torch.no_grad():
            classes = model(example).shape[1]
        names = [str(i) for i in range(classes)]
    else:
        names = imagenet_categories(models)
    if labels is None:
        base = args.output
        for ext in (".gz", ".pt", ".pth"):
            if base.endswith(ext):
                base = base[: -len(ext)]
        labels = base + ".labels.txt"
    with open(labels, "w", encoding="utf-8") as f:
        f.write("\n".join(names) + "\n")
    print(f"wrote {args.output} ({what}, {'gzip' if compress else 'plain'}) and {labels}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
