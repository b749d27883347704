#!/usr/bin/env python3
"""Unit checks of the int8 calibration set-up of tools/export_model.py,
without a model (export_int8_calibration.sh runs the real exports):

  * tools/calibration_set.py finds images in every folder of a class tree
    (nested folders too; hidden entries and non-images left out), and the
    evenly-drawn selection takes files from every folder, balanced, the
    same in two processes with different hash seeds, all files when fewer
    than asked, and a clear error naming DIR when there are none;
  * tools/recipe_options.py gives calibration the stored recipe's own
    `imgclass preprocess` options, whichever way the recipe came (flags,
    torchvision weights), and --preprocess changes only the fields it names.

  calibration_check.py WORKDIR
Exit 0 pass, 1 fail.
"""
import argparse
import contextlib
import io
import os
import subprocess
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "tools")
sys.path.insert(0, TOOLS)

import calibration_set  # noqa: E402
import export_recipe  # noqa: E402
import recipe_options  # noqa: E402

failures = []


def check(condition, what):
    print(("ok: " if condition else "FAIL: ") + what)
    if not condition:
        failures.append(what)


def touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"not decoded here")


def make_tree(root):
    """Class folders of unequal sizes, one nested; decoys to leave out."""
    sizes = {"cat": 10, "dog": 2, "eel": 5, os.path.join("fish", "trout"): 3}
    for folder, n in sizes.items():
        for i in range(n):
            touch(os.path.join(root, folder, f"{i:02d}.{'png' if i % 2 else 'JPG'}"))
    touch(os.path.join(root, ".cache", "hidden.png"))      # hidden folder
    touch(os.path.join(root, "cat", ".thumb.png"))         # hidden file
    touch(os.path.join(root, "dog", "notes.txt"))          # not an image
    touch(os.path.join(root, "fish", "readme.md"))         # fish/ itself holds no image
    return {os.path.join(root, f): n for f, n in sizes.items()}


SELECT = ("import sys; sys.path.insert(0, sys.argv[1]); import calibration_set as c; "
          "print('\\n'.join(c.draw_evenly(c.image_folders(sys.argv[2]), int(sys.argv[3]))))")


def draw_in_process(root, count, hash_seed):
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
    return subprocess.run([sys.executable, "-c", SELECT, TOOLS, root, str(count)], env=env,
                          check=True, stdout=subprocess.PIPE, text=True).stdout.split()


def check_selection(workdir):
    root = os.path.join(workdir, "tree")
    sizes = make_tree(root)
    folders = calibration_set.image_folders(root)
    check([f for f, _ in folders] == sorted(sizes), "image_folders: every folder holding images, "
          "sorted, nested ones too, none hidden: %s" % [os.path.relpath(f, root)
                                                       for f, _ in folders])
    check(all(len(files) == sizes[f] for f, files in folders),
          "image_folders: image files only (no hidden file, no .txt/.md)")

    picked = calibration_set.draw_evenly(folders, 8)
    per = Counter(os.path.dirname(p) for p in picked)
    check(len(picked) == 8 and len(set(picked)) == 8, "draw_evenly: 8 distinct files")
    check(set(per) == set(sizes), "draw_evenly(8) takes files from every folder: %s"
          % {os.path.relpath(f, root): n for f, n in per.items()})
    check(per[os.path.join(root, "dog")] == 2 and per[os.path.join(root, "cat")] == 2,
          "draw_evenly(8) is balanced (2 per folder, round-robin)")
    check(picked != sorted(picked)[:8], "draw_evenly is not the first files by name")
    few = calibration_set.draw_evenly(folders, 3)
    check(len({os.path.dirname(p) for p in few}) == 3,
          "draw_evenly(3) over 4 folders takes 3 different folders")

    first, second = draw_in_process(root, 8, 1), draw_in_process(root, 8, 2)
    check(first == second == picked, "the selection is the same in two runs")
    check(sorted(calibration_set.draw_evenly(folders, 100)) ==
          sorted(p for _, files in folders for p in files),
          "draw_evenly(100) of 20 takes every file once")

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        files = calibration_set.calibration_files(root, 6)
    check(len(files) == 6 and "calibration: 6 images from 4 folders (of 20 found)"
          in err.getvalue(), "calibration_files prints the count line: " + err.getvalue().strip())
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        calibration_set.calibration_files(root, 50)
    check("20 images from 4 folders (all found: fewer than --calibrate-count 50)"
          in err.getvalue(), "fewer images than asked: all, and it says so")

    empty = os.path.join(workdir, "empty")
    touch(os.path.join(empty, ".hidden", "a.png"))
    touch(os.path.join(empty, "sub", "notes.txt"))
    err, code = io.StringIO(), None
    with contextlib.redirect_stderr(err):
        try:
            calibration_set.calibration_files(empty, 5)
        except SystemExit as e:
            code = e.code
    check(code == 5 and f"--calibrate {empty}: no images" in err.getvalue(),
          "no images: exit 5 naming DIR: " + err.getvalue().strip())


def flags(**kw):
    base = dict(resize="256", crop="224", interpolation="bilinear", mean="0.485,0.456,0.406",
                std="0.229,0.224,0.225", no_recipe=False, recipe_weights=None,
                class_names=None, module="x.py:M")
    base.update(kw)
    return argparse.Namespace(**base)


def check_recipe_options():
    from torchvision import models
    r32 = export_recipe.make_recipe(flags(resize="32", crop="32"), models, None)
    args, size, how = recipe_options.calibration_options(r32, "")
    check(args[:6] == ["--resize-mode", "short", "--size", "32", "--crop", "32x32"]
          and size == [32, 32] and how == "the stored recipe",
          "flags --resize 32 --crop 32: calibration %s, %s" % (" ".join(args), size))

    b4 = export_recipe.make_recipe(
        flags(recipe_weights="EfficientNet_B4_Weights.IMAGENET1K_V1"), models, None)
    args, size, _ = recipe_options.calibration_options(b4, "")
    check(args[:8] == ["--resize-mode", "short", "--size", "384", "--crop", "380x380",
                       "--interpolation", "bicubic"] and size == [380, 380],
          "--recipe-weights EfficientNet-B4: calibration " + " ".join(args))

    exact = export_recipe.make_recipe(flags(resize="40x30", crop="none"), models, None)
    args, size, _ = recipe_options.calibration_options(exact, "")
    check(args[:6] == ["--resize-mode", "exact", "--size", "40x30", "--crop", "none"]
          and size == [30, 40], "flags --resize 40x30 --crop none: calibration "
          + " ".join(args))

    args, size, how = recipe_options.calibration_options(r32, "--interpolation bicubic --fast")
    want = recipe_options.preprocess_args(dict(r32, interpolation="bicubic")) + ["--fast"]
    check(args == want and size == [32, 32] and "changing interpolation" in how,
          "--preprocess changes only the field it names: " + " ".join(args))
    args, size, _ = recipe_options.calibration_options(r32, "--size 48x40")
    check(args[:6] == ["--resize-mode", "exact", "--size", "48x40", "--crop", "32x32"]
          and size == [32, 32], "--preprocess --size WxH implies exact, crop kept")


def main():
    check_selection(sys.argv[1])
    check_recipe_options()
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
