"""The calibration images of tools/export_model.py --calibrate DIR.

DIR is usually a dataset tree with one subfolder per class (torchvision's
ImageFolder layout), so the images are found in DIR and every folder below
it, and --calibrate-count N draws them evenly across the folders that hold
images: the observers see every class, not the first one in name order.
The draw is deterministic (a fixed seed), so an export is reproducible.
"""
import os
import random
import sys

EXIT_CALIBRATION = 5
# The extensions imgclass's own folder walk takes as images
# (examples/common/dir_walk.c; no .pbm: imgclass reads no PBM).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".gif", ".tga",
                  ".tpic", ".pnm", ".ppm", ".pgm", ".psd")
SEED = 0


def fail(message):
    print(f"export_model.py: {message}", file=sys.stderr)
    sys.exit(EXIT_CALIBRATION)


def image_folders(directory):
    """[(folder, [image paths])] for DIR and each folder below it that holds
    images, both in sorted order. Entries whose name starts with '.' are
    skipped and a symbolic link to a folder is not descended, as imgclass's
    folder walk does; an unreadable subfolder is reported and skipped."""
    if not os.path.isdir(directory):
        fail(f"--calibrate {directory}: " + ("not a folder" if os.path.exists(directory)
                                             else "no such folder"))

    def unreadable(e):
        if os.path.normpath(e.filename) == os.path.normpath(directory):
            fail(f"--calibrate {directory}: {e.strerror}")
        print(f"export_model.py: --calibrate: {e.filename}: {e.strerror} (skipped)",
              file=sys.stderr)

    found = []
    for root, dirs, files in os.walk(directory, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        images = sorted(os.path.join(root, f) for f in files
                        if not f.startswith(".") and f.lower().endswith(IMAGE_SUFFIXES)
                        and os.path.isfile(os.path.join(root, f)))
        if images:
            found.append((root, images))
    return sorted(found)


def draw_evenly(folders, count, seed=SEED):
    """Up to `count` paths, round-robin over the folders: each folder's files
    shuffled, and the folders' turn order too (so a count below the number
    of folders still spreads over the whole tree), all from one fixed seed."""
    rng = random.Random(seed)
    queues = []
    for _, files in folders:
        files = list(files)
        rng.shuffle(files)
        queues.append(files)
    rng.shuffle(queues)
    picked, depth = [], 0
    while len(picked) < count:
        row = [q[depth] for q in queues if depth < len(q)]
        if not row:
            break
        picked += row[:count - len(picked)]
        depth += 1
    return picked


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def calibration_files(directory, count):
    """The images to calibrate on; says on stderr how many, from how many folders."""
    folders = image_folders(directory)
    total = sum(len(files) for _, files in folders)
    if total == 0:
        fail(f"--calibrate {directory}: no images in it or its subfolders (looked for "
             f"{', '.join(IMAGE_SUFFIXES)})")
    files = draw_evenly(folders, count)
    used = len({os.path.dirname(f) for f in files})
    where = "" if used == len(folders) else f" in {plural(len(folders), 'folder')}"
    line = f"calibration: {plural(len(files), 'image')} from {plural(used, 'folder')} "
    if total < count:
        line += f"(all found{where}: fewer than --calibrate-count {count})"
    else:
        line += f"(of {total} found{where})"
    print(line, file=sys.stderr)
    return files
