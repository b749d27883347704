"""The preprocessing recipe tools/export_model.py stores in a model.

make_recipe() is the one place the recipe is computed: the archive's
imgclass.json is its result, and int8 calibration preprocesses with it
(recipe_options.py turns it into `imgclass preprocess` options), so the
calibration tensors are the ones inference feeds the model.
"""
import sys

EXIT_USAGE = 2


def usage_error(message):
    print("export_model.py: " + message, file=sys.stderr)
    sys.exit(EXIT_USAGE)


def parse_dims(text, option, allow_none=False):
    """([h, w], was a pair) from "N" or "WxH" (imgclass's order); None for "none"."""
    if allow_none and text == "none":
        return None
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        usage_error(f"{option} {text!r}: expected N or WxH" + (" or none" if allow_none else ""))
    return (parts[::-1] if len(parts) == 2 else parts * 2), len(parts) == 2


def parse_triple(text, option):
    try:
        v = [float(x) for x in text.split(",")]
    except ValueError:
        v = []
    if len(v) != 3:
        usage_error(f"{option} {text!r}: expected three numbers R,G,B")
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


def check_recipe(recipe, prefix, resize_option):
    """The rules imgclass enforces on a recipe, as usage errors (prefix + message)."""
    if recipe["crop"] is None and recipe["resize_mode"] != "exact":
        usage_error(f"{prefix}--crop none needs an exact {resize_option} WxH (the output size "
                    "would follow each image)")
    if 0.0 in recipe["std"]:
        usage_error(f"{prefix}--std must not contain 0")


def recipe_from_flags(args):
    (rh, rw), exact = parse_dims(args.resize, "--resize")
    crop = parse_dims(args.crop, "--crop", allow_none=True)
    recipe = {"version": 1, "resize_mode": "exact" if exact else "shorter",
              "resize_size": [rh, rw] if exact else rh,
              "crop": crop[0] if crop else None, "interpolation": args.interpolation,
              "mean": parse_triple(args.mean, "--mean"),
              "std": parse_triple(args.std, "--std"),
              "source": "tools/export_model.py flags"}
    check_recipe(recipe, "", "--resize")
    return recipe


def make_recipe(args, models, weights):
    """The recipe to store (None for --no-recipe): the weights' transforms()
    (--weights, --recipe-weights), else the recipe flags; labels added."""
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


def output_size(recipe):
    """[h, w] of every tensor the recipe makes, or None when it follows the image."""
    if recipe["crop"]:
        return list(recipe["crop"])
    if recipe["resize_mode"] == "exact":
        return list(recipe["resize_size"])
    return None
