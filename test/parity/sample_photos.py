"""The sample photos: real ImageNet validation JPEGs that the parity tests
(test/parity/*.py, test/python/) add to their generated images.

They are not part of the repository. IMGCLASS_SAMPLE_PHOTOS names their
folder; without it, the folder the development machines keep next to the
checkout. A folder that is missing or holds no file counts as absent.

Absent photos make a parity run prove less than it claims, so a test that
passed on generated images alone reports a skip (exit 77, listed), never a
pass; with IMGCLASS_REQUIRE_PHOTOS=1 (CI sets it: .ci/run) it fails."""
import os

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOLDER = os.environ.get("IMGCLASS_SAMPLE_PHOTOS") or os.path.join(
    _REPO, "..", "shared", "images", "imagenet-sample-100")


def required():
    """True when a run without the photos must fail (IMGCLASS_REQUIRE_PHOTOS=1)."""
    return os.environ.get("IMGCLASS_REQUIRE_PHOTOS") == "1"


def photos():
    """The photos' paths, sorted; [] when the folder is missing or empty."""
    if not os.path.isdir(FOLDER):
        return []
    return sorted(os.path.join(FOLDER, f) for f in os.listdir(FOLDER)
                  if os.path.isfile(os.path.join(FOLDER, f)))


def absent_message():
    return ("the sample photos are absent (%s missing or empty; IMGCLASS_SAMPLE_PHOTOS "
            "names another folder)" % os.path.normpath(FOLDER))


def absent_verdict(what):
    """Exit status of a test script whose checks passed without the photos:
    77 (skipped), or 1 with IMGCLASS_REQUIRE_PHOTOS=1. Prints why."""
    if required():
        print("FAIL: %s: IMGCLASS_REQUIRE_PHOTOS=1 but %s" % (what, absent_message()))
        return 1
    print("SKIP: %s: the generated images passed, but %s" % (what, absent_message()))
    return 77
