"""A stored recipe as `imgclass preprocess` options, with --preprocess overrides.

int8 calibration runs `imgclass preprocess` with calibration_options(), so
the calibration tensors are made the way imgclass makes them from the
recipe the archive stores (export_recipe.make_recipe, the one place that
computes it) at inference. `--preprocess "ARGS"` is only for an explicit
difference: it changes the fields it names and nothing else, by the rules
imgclass's own options follow over a model's recipe (`--size WxH` implies
`--resize-mode exact`; `--preset` replaces the recipe as a whole).
"""
import argparse
import copy
import shlex

from export_recipe import check_recipe, output_size, parse_dims, parse_triple, usage_error

# imgclass.json's resize_mode -> the CLI's --resize-mode, and back.
CLI_MODE = {"shorter": "short", "exact": "exact", "none": "none"}
RECIPE_MODE = {v: k for k, v in CLI_MODE.items()}
FIELDS = ("resize_mode", "size", "crop", "interpolation", "mean", "std")


def wxh(hw):
    return f"{hw[1]}x{hw[0]}"  # the recipe's [h, w] in the CLI's WxH


def triple(values):
    return ",".join(repr(float(v)) for v in values)  # repr: the exact double back


def preprocess_args(recipe):
    """The `imgclass preprocess` options that preprocess exactly as `recipe`."""
    mode = recipe["resize_mode"]
    args = ["--resize-mode", CLI_MODE[mode]]
    if mode == "shorter":
        args += ["--size", str(recipe["resize_size"])]
    elif mode == "exact":
        args += ["--size", wxh(recipe["resize_size"])]
    return args + ["--crop", wxh(recipe["crop"]) if recipe["crop"] else "none",
                   "--interpolation", recipe["interpolation"],
                   "--mean", triple(recipe["mean"]), "--std", triple(recipe["std"])]


def parse_overrides(tokens):
    """(namespace of the recipe fields given, the other tokens in order)."""
    p = argparse.ArgumentParser(prog="export_model.py --preprocess", add_help=False,
                                allow_abbrev=False)
    p.add_argument("--preset")
    p.add_argument("--resize-mode", choices=sorted(RECIPE_MODE))
    p.add_argument("--size")
    p.add_argument("--crop")
    p.add_argument("--interpolation", choices=["bilinear", "bicubic"])
    p.add_argument("--mean")
    p.add_argument("--std")
    return p.parse_known_args(tokens)


def override(recipe, given):
    """`recipe` with the fields `given` (parse_overrides) replaced."""
    r = copy.deepcopy(recipe)
    mode = RECIPE_MODE[given.resize_mode] if given.resize_mode else None
    if given.size is not None:
        (h, w), pair = parse_dims(given.size, "--preprocess --size")
        if mode is None:
            mode = "exact" if pair else r["resize_mode"]
        if mode == "shorter" and pair:
            usage_error("--preprocess: --size WxH needs --resize-mode exact (short takes "
                        "one number)")
        r["resize_size"] = h if mode == "shorter" else [h, w]
    elif mode not in (None, "none", r["resize_mode"]):
        # The stored size is for another mode (a shorter side is not a WxH).
        usage_error(f"--preprocess: --resize-mode {given.resize_mode} needs a --size")
    if mode is not None:
        r["resize_mode"] = mode
    if r["resize_mode"] == "none":
        r.pop("resize_size", None)
    if given.crop is not None:
        crop = parse_dims(given.crop, "--preprocess --crop", allow_none=True)
        r["crop"] = crop[0] if crop else None
    if given.interpolation is not None:
        r["interpolation"] = given.interpolation
    if given.mean is not None:
        r["mean"] = parse_triple(given.mean, "--preprocess --mean")
    if given.std is not None:
        r["std"] = parse_triple(given.std, "--preprocess --std")
    check_recipe(r, "--preprocess: ", "--size")
    return r


def calibration_options(recipe, text):
    """(`imgclass preprocess` options, [h, w] they make or None when not known
    here, a description) for calibrating a model that stores `recipe` (None:
    no recipe, so imgclass's defaults), overridden by --preprocess `text`."""
    tokens = shlex.split(text)
    given, rest = parse_overrides(tokens)
    if recipe is None or given.preset is not None:
        # imgclass applies the options itself over its base: its defaults
        # (what a model without a recipe gets) or the preset named.
        if given.preset is not None:
            how = f"--preprocess, its --preset {given.preset} in place of the stored recipe"
        else:
            how = "imgclass's defaults (no recipe stored)" + (", with --preprocess"
                                                              if tokens else "")
        return tokens, None, how
    named = [f for f in FIELDS if getattr(given, f) is not None]
    merged = override(recipe, given) if named else recipe
    how = "the stored recipe"
    if named:
        how += ", with --preprocess changing " + ", ".join(f.replace("_", "-") for f in named)
    return preprocess_args(merged) + rest, output_size(merged), how
