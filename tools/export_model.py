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
CLI's `preprocess --npy`, with ARGS), so calibration sees exactly the
tensors inference will; it saves a frozen TorchScript model and prints the
float32 vs int8 agreement on the calibration images (tools/quantize.py).

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

EXIT_USAGE, EXIT_NO_NETWORK, EXIT_BAD_STATE_DICT = 2, 3, 4


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Export a torchvision ImageNet classifier to TorchScript "
                    "(plus its labels file) for imgclass.")
    p.add_argument("output", help="output file (.pt, or .pt.gz for gzip)")
    p.add_argument("--arch", default="resnet18",
                   help="torchvision architecture name (default resnet18)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", metavar="imagenet|NAME",
                     help="download pretrained weights (needs network): imagenet for the "
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
                   help="input height and width for tracing (default: the recipe's crop)")
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


def usage_error(message):
    print("export_model.py: " + message, file=sys.stderr)
    sys.exit(EXIT_USAGE)


def parse_dims(text, name, allow_none=False):
    """([h, w], was a pair) from "N" or "WxH" (imgclass's order); None for "none"."""
    if allow_none and text == "none":
        return None
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        usage_error(f"--{name} {text!r}: expected N or WxH" + (" or none" if allow_none else ""))
    return (parts[::-1] if len(parts) == 2 else parts * 2), len(parts) == 2


def parse_triple(text, name):
    try:
        v = [float(x) for x in text.split(",")]
    except ValueError:
        v = []
    if len(v) != 3:
        usage_error(f"--{name} {text!r}: expected three numbers R,G,B")
    return v


def torchvision_weights(models, name):
    """The weights enum member "Enum_Name.MEMBER"."""
    enum_name, _, member = name.partition(".")
    enum = getattr(models, enum_name, None)
    if enum is None or not hasattr(enum, "__members__") or member not in enum.__members__:
        usage_error(f"unknown torchvision weights {name!r} (e.g. "
                    "EfficientNet_B0_Weights.IMAGENET1K_V1)")
    return enum[member]


def recipe_from_weights(weights):
    """imgclass.json from a torchvision weights' own evaluation transforms."""
    from torchvision.transforms import InterpolationMode
    t = weights.transforms()
    interp = {InterpolationMode.BILINEAR: "bilinear",
              InterpolationMode.BICUBIC: "bicubic"}.get(t.interpolation)
    if interp is None or len(t.resize_size) != 1:
        usage_error(f"{weights}: its transforms() ({t}) is not a recipe imgclass reproduces")
    crop = list(t.crop_size) * 2 if len(t.crop_size) == 1 else list(t.crop_size)
    return {"version": 1, "resize_mode": "shorter", "resize_size": t.resize_size[0],
            "crop": crop, "interpolation": interp, "mean": list(t.mean), "std": list(t.std),
            "labels": list(weights.meta["categories"]),
            "source": f"torchvision {type(weights).__name__}.{weights.name} transforms()"}


def recipe_from_flags(args):
    (rh, rw), exact = parse_dims(args.resize, "resize")
    crop = parse_dims(args.crop, "crop", allow_none=True)
    if crop is None and not exact:
        usage_error("--crop none needs an exact --resize WxH (the output size would "
                    "follow each image)")
    recipe = {"version": 1, "resize_mode": "exact" if exact else "shorter",
              "resize_size": [rh, rw] if exact else rh,
              "crop": crop[0] if crop else None, "interpolation": args.interpolation,
              "mean": parse_triple(args.mean, "mean"), "std": parse_triple(args.std, "std"),
              "source": "tools/export_model.py flags"}
    if 0.0 in recipe["std"]:
        usage_error("--std must not contain 0")
    return recipe


def make_recipe(args, models, weights):
    if args.no_recipe:
        return None
    if args.recipe_weights:
        weights = torchvision_weights(models, args.recipe_weights)
    recipe = recipe_from_weights(weights) if weights is not None else recipe_from_flags(args)
    if args.class_names:
        try:
            with open(args.class_names, encoding="utf-8") as f:
                names = [line.rstrip("\r\n") for line in f]
        except OSError as e:
            usage_error(f"{args.class_names}: {e.strerror}")
        while names and names[-1] == "":
            names.pop()
        if not names:
            usage_error(f"{args.class_names}: no class names")
        recipe["labels"] = names
    elif weights is None and not args.module:
        recipe["labels"] = imagenet_categories(models)
    return recipe


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
    try:
        return builder(weights=weights), weights, False
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

    model, weights, scripted = build(args, torch, models)
    recipe = make_recipe(args, models, weights)
    size = args.size
    if size is None:  # trace at the size the recipe feeds the model
        size = recipe["crop"][0] if recipe and recipe["crop"] else 224
    example = torch.zeros(1, 3, size, size)
    if not scripted:
        model = model.eval()
        if args.quantize:
            import quantize
            scripted = quantize.quantize_int8(args, torch, model, example)
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
