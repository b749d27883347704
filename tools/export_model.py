#!/usr/bin/env python3
"""Export a classifier to TorchScript for imgclass.

Writes MODEL.pt (or MODEL.pt.gz) and, beside it, a labels file (one name per
line). The archive carries its preprocessing recipe, "imgclass.json" in its
extra files (resize, crop, interpolation, mean, std and the labels), so
imgclass feeds the model the way it was evaluated without any option
(docs/preprocessing.md):
  - with --weights, or --recipe-weights NAME, the recipe is that torchvision
    weights' own transforms();
  - otherwise (--state-dict, --random-seed, --module, --torchscript) it comes
    from the recipe flags, whose defaults are torchvision's classic ImageNet
    recipe Resize(256) CenterCrop(224) bilinear.

  export_model.py [--arch resnet18 | --module FILE.py:NAME]
                  (--weights imagenet|NAME | --state-dict FILE | --random-seed N |
                   --torchscript FILE.pt) [--recipe-weights W.NAME]
                  [--resize N|WxH] [--crop N|WxH|none] [--interpolation bilinear|bicubic]
                  [--mean R,G,B] [--std R,G,B] [--class-names FILE] [--no-recipe]
                  [--quantize int8 --calibrate DIR [--calibrate-count N]
                   [--qengine onednn|qnnpack] [--preprocess "ARGS"]]
                  [--gzip] [--labels FILE] OUTPUT

--quantize int8 runs post-training static quantization (torch.ao FX graph
mode) calibrated on images from DIR that imgclass itself preprocesses (its
CLI's `preprocess --npy`) with the recipe the archive stores, however it was
given, so calibration sees exactly the tensors inference will;
--preprocess "ARGS" is only for an explicit difference and changes the
fields it names (tools/recipe_options.py). DIR is searched recursively (a
dataset with one folder per class) and --calibrate-count N images are drawn
evenly across its folders with a fixed seed (tools/calibration_set.py). It
saves a frozen TorchScript model and prints the float32 vs int8 agreement on
the calibration images (tools/quantize.py).

IMGCLASS_OFFLINE=1 in the environment: never download; --weights then takes
the weights from torch's cache ($TORCH_HOME/hub/checkpoints) or exits 3.

Exit codes: 0 ok, 2 usage error, 3 no network for --weights, 4 bad state
dict or TorchScript archive, 5 calibration images unusable, 1 anything else.
Run it with /usr/bin/python3 (Debian's torch + torchvision).
"""
import argparse
import gzip
import io
import json
import os
import sys

from export_recipe import (EXIT_USAGE, imagenet_categories, make_recipe, output_size,
                           usage_error)
from recipe_options import calibration_options

EXIT_NO_NETWORK, EXIT_BAD_STATE_DICT = 3, 4


def parse_args(argv):
    p = argparse.ArgumentParser(
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export a torchvision ImageNet classifier to TorchScript "
                    "(plus its labels file) for imgclass.",
        epilog="int8 calibration preprocesses the images exactly as the recipe stored in the\n"
               "model (from --weights, --recipe-weights or the recipe flags; imgclass's\n"
               "defaults with --no-recipe), so the observers see the tensors inference will;\n"
               "--preprocess is only for a deliberate difference. It prints the options used\n"
               "and how many images it drew from how many folders.\n\n"
               "environment: IMGCLASS_OFFLINE=1 never downloads (--weights then needs the\n"
               "file in torch's cache, $TORCH_HOME/hub/checkpoints, or exits 3).")
    p.add_argument("output", help="output file (.pt, or .pt.gz for gzip)")
    p.add_argument("--arch", default="resnet18",
                   help="torchvision architecture name (default resnet18)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", metavar="imagenet|NAME",
                     help="download pretrained weights (needs network, unless torch's cache "
                          "has them; IMGCLASS_OFFLINE=1 never downloads): imagenet for the "
                          "architecture's default, or a name such as IMAGENET1K_V1")
    src.add_argument("--state-dict", metavar="FILE",
                     help="load local weights (a state dict saved with torch.save)")
    src.add_argument("--random-seed", type=int, metavar="N",
                     help="seeded RANDOM weights: for tests and benchmarks only")
    src.add_argument("--torchscript", metavar="FILE.pt",
                     help="an existing TorchScript archive to re-save with a recipe")
    r = p.add_argument_group("recipe (imgclass.json in the archive)")
    r.add_argument("--recipe-weights", metavar="W.NAME",
                   help="take the recipe (and labels) from this torchvision weights' "
                        "transforms(), e.g. EfficientNet_B0_Weights.IMAGENET1K_V1 (no download)")
    r.add_argument("--resize", default="256", metavar="N|WxH",
                   help="shorter side N, or exactly WxH (default 256)")
    r.add_argument("--crop", default="224", metavar="N|WxH|none",
                   help="center crop (default 224)")
    r.add_argument("--interpolation", choices=["bilinear", "bicubic"], default="bilinear")
    r.add_argument("--mean", default="0.485,0.456,0.406", metavar="R,G,B")
    r.add_argument("--std", default="0.229,0.224,0.225", metavar="R,G,B")
    r.add_argument("--class-names", metavar="FILE",
                   help="labels to store in the recipe, one per line (default: the "
                        "weights' categories; none for --module and --torchscript)")
    r.add_argument("--no-recipe", action="store_true",
                   help="store no recipe (imgclass then uses its defaults or your options)")
    p.add_argument("--gzip", action="store_true",
                   help="gzip the archive (implied by an output name ending .gz)")
    p.add_argument("--script", action="store_true",
                   help="use torch.jit.script instead of torch.jit.trace")
    p.add_argument("--labels", metavar="FILE",
                   help="labels file to write (default: OUTPUT without .pt[.gz] + .labels.txt)")
    p.add_argument("--size", type=int,
                   help="input height and width for tracing (default: the size the recipe "
                        "makes, else 224)")
    p.add_argument("--module", metavar="FILE.py:NAME",
                   help="build the model from an nn.Module class or factory NAME in FILE.py "
                        "(called with no arguments) instead of --arch; no labels file is "
                        "written unless --labels names one")
    q = p.add_argument_group("int8 quantization")
    q.add_argument("--quantize", choices=["int8"],
                   help="post-training static quantization (needs --calibrate)")
    q.add_argument("--calibrate", metavar="DIR",
                   help="calibration images (JPEG, PNG, ...) in DIR and its subfolders (e.g. "
                        "one per class; hidden ones skipped), preprocessed by imgclass with "
                        "the recipe stored in the model")
    q.add_argument("--calibrate-count", type=int, default=100, metavar="N",
                   help="calibration images to use (default 100), drawn evenly across the "
                        "folders that hold images, the same ones on every run")
    q.add_argument("--qengine", choices=["onednn", "qnnpack"], default="onednn",
                   help="quantized engine the model is built for (default onednn; run it "
                        "with the same one, docs/engine.md)")
    q.add_argument("--preprocess", default="", metavar="ARGS",
                   help="calibrate with preprocessing that differs from the stored recipe: "
                        "`imgclass preprocess` options that replace the fields they name, "
                        "e.g. \"--interpolation bicubic\" (default: none, calibration "
                        "preprocesses exactly as the stored recipe)")
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
    """(model, weights or None, already scripted)."""
    if args.torchscript:
        if args.quantize:
            usage_error("--quantize needs the Python model (--arch or --module), not "
                        "--torchscript")
        try:
            return torch.jit.load(args.torchscript, map_location="cpu"), None, True
        except Exception as e:  # noqa: BLE001 - reported, then a distinct exit code
            print(f"export_model.py: {args.torchscript}: not a TorchScript archive: {e}",
                  file=sys.stderr)
            sys.exit(EXIT_BAD_STATE_DICT)
    if args.module:
        return build_module(args, torch), None, False
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
        return builder(weights=None), None, False
    if args.state_dict:
        model = builder(weights=None)
        load_state(args, torch, model)
        return model, None, False
    enum = models.get_model_weights(args.arch)
    if args.weights == "imagenet":
        weights = enum.DEFAULT
    elif args.weights in enum.__members__:
        weights = enum[args.weights]
    else:
        usage_error(f"--weights {args.weights!r}: {args.arch} has "
                    f"{', '.join(enum.__members__)} (or imagenet for the default)")
    cached = cached_weights(torch, weights)
    if offline() and not os.path.exists(cached):
        print(f"export_model.py: IMGCLASS_OFFLINE is set and the pretrained weights for "
              f"{args.arch} are not in torch's cache: copy {weights.url} to {cached} or "
              f"pass --state-dict FILE", file=sys.stderr)
        sys.exit(EXIT_NO_NETWORK)
    try:
        return builder(weights=weights), weights, False
    except Exception as e:  # noqa: BLE001 - urllib raises several kinds
        print(f"export_model.py: cannot download the pretrained weights for {args.arch} "
              f"({weights.url}): {e}\nNo network? Copy the .pth file to {cached} or pass "
              f"--state-dict FILE.", file=sys.stderr)
        sys.exit(EXIT_NO_NETWORK)


def offline():
    """IMGCLASS_OFFLINE=1: never download (tests set it: a network that drops
    packets would otherwise keep --weights waiting for minutes)."""
    return os.environ.get("IMGCLASS_OFFLINE", "") not in ("", "0")


def cached_weights(torch, weights):
    """Where torch.hub.load_state_dict_from_url (torchvision's loader) looks
    first: TORCH_HOME's hub/checkpoints/ and the URL's file name."""
    from urllib.parse import urlparse
    return os.path.join(torch.hub.get_dir(), "checkpoints",
                        os.path.basename(urlparse(weights.url).path))


def trace_size(args, recipe):
    """[h, w] to trace at: --size, else what the stored recipe makes, else 224."""
    if args.size:
        return [args.size, args.size]
    return (output_size(recipe) if recipe else None) or [224, 224]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import torch
    from torchvision import models

    model, weights, scripted = build(args, torch, models)
    recipe = make_recipe(args, models, weights)
    height, width = trace_size(args, recipe)
    example = torch.zeros(1, 3, height, width)
    calibration = None
    if args.quantize:
        calibration = calibration_options(recipe, args.preprocess)
        made, how = calibration[1], calibration[2]
        if made is not None and made != [height, width]:
            fix = (f"give --size {made[0]} to trace at the calibration size" if made[0] == made[1]
                   else "give --preprocess options that make the traced size")
            usage_error(f"calibration would make {made[1]}x{made[0]} tensors ({how}) but the "
                        f"model is traced at {width}x{height} "
                        f"({'--size' if args.size else 'the stored recipe'}): {fix}")
    if not scripted:
        model = model.eval()
        if args.quantize:
            import quantize
            scripted = quantize.quantize_int8(args, torch, model, example, calibration)
        else:
            with torch.no_grad():
                scripted = (torch.jit.script(model) if args.script
                            else torch.jit.trace(model, example))
    else:
        scripted = model
    extra = {}
    if recipe is not None:
        extra["imgclass.json"] = json.dumps(recipe, indent=1)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf, _extra_files=extra)
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
    names = recipe.get("labels") if recipe else None
    if names is None and args.module and args.labels:
        # A custom model's classes have no names here: number them.
        with torch.no_grad():
            names = [str(i) for i in range(model(example).shape[1])]
    elif names is None and not (args.module or args.torchscript):
        names = imagenet_categories(models)
    if names is not None:
        with open(labels, "w", encoding="utf-8") as f:
            f.write("\n".join(names) + "\n")
    what = args.module or ("TorchScript " + args.torchscript if args.torchscript else args.arch)
    if args.quantize:
        what += f", int8 {args.qengine}"
    how = ("no recipe" if recipe is None else
           f"recipe: {recipe['resize_mode']} {recipe['resize_size']}, crop {recipe['crop']}, "
           f"{recipe['interpolation']}")
    print(f"wrote {args.output} ({what}, {'gzip' if compress else 'plain'}, {how})"
          + (f" and {labels}" if names is not None else " (no labels file)"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
