"""Where the binding finds libimgclass, and its version check. Each case
imports the package in a fresh interpreter with a controlled environment."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, build_dir

PACKAGE = os.path.join(REPO, "bindings", "python")
PROBE = "import imgclass; print(imgclass.library_source, imgclass.library_path, imgclass.library_version)"


def run(code, env_extra=None, path=PACKAGE, cwd=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("IMGCLASS_LIBRARY", "LD_LIBRARY_PATH", "LIBRARY_PATH", "PYTHONPATH")}
    env["PYTHONPATH"] = path
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=cwd or "/")


def built_library():
    lib = os.path.join(build_dir(), "libimgclass.so")
    assert os.path.exists(lib), "run make first"
    return os.path.realpath(lib)


def system_has_imgclass():
    import ctypes.util
    return ctypes.util.find_library("imgclass") is not None


@pytest.fixture
def package_copy(tmp_path):
    """The package outside the source tree, so there is no build/ to fall back on."""
    dst = tmp_path / "site"
    shutil.copytree(os.path.join(PACKAGE, "imgclass"), dst / "imgclass",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return str(dst)


def test_environment_variable_comes_first(tmp_path):
    r = run(PROBE, {"IMGCLASS_LIBRARY": built_library()})
    assert r.returncode == 0, r.stderr
    from imgclass import _lib
    assert r.stdout.split() == ["IMGCLASS_LIBRARY", built_library(), _lib.BINDING_VERSION]


def test_environment_variable_is_not_silently_ignored():
    r = run(PROBE, {"IMGCLASS_LIBRARY": "/nonexistent/libimgclass.so"})
    assert r.returncode != 0
    assert "LibraryNotFound" in r.stderr and "/nonexistent/libimgclass.so" in r.stderr
    assert "IMGCLASS_LIBRARY" in r.stderr


def test_find_library_second(package_copy, tmp_path):
    libdir = tmp_path / "lib"
    libdir.mkdir()
    for name in ("libimgclass.so", "libimgclass.so.1"):
        os.symlink(built_library(), libdir / name)
    r = run(PROBE, {"LD_LIBRARY_PATH": str(libdir), "LIBRARY_PATH": str(libdir)},
            path=package_copy)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "find_library"


def test_bundled_library_before_the_installed_one(package_copy, tmp_path):
    """A wheel's libimgclass.so inside the package wins over one that
    find_library would find (and over the build folder)."""
    shutil.copy(built_library(), os.path.join(package_copy, "imgclass", "libimgclass.so"))
    libdir = tmp_path / "lib"
    libdir.mkdir()
    for name in ("libimgclass.so", "libimgclass.so.1"):
        os.symlink(built_library(), libdir / name)
    env = {"LD_LIBRARY_PATH": str(libdir), "LIBRARY_PATH": str(libdir)}
    r = run(PROBE, env, path=package_copy)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["bundled",
                                    os.path.join(package_copy, "imgclass", "libimgclass.so")]
    # ... but not over the explicit choice
    r = run(PROBE, dict(env, IMGCLASS_LIBRARY=built_library()), path=package_copy)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "IMGCLASS_LIBRARY"


def test_build_folder_last():
    if system_has_imgclass():
        pytest.skip("an installed libimgclass is found first on this machine")
    r = run(PROBE)
    assert r.returncode == 0, r.stderr
    src, path, _ = r.stdout.split()
    assert src == "build" and path == os.path.join(REPO, "build", "libimgclass.so")


def test_not_found_says_where_it_looked(package_copy):
    if system_has_imgclass():
        pytest.skip("an installed libimgclass is found first on this machine")
    r = run(PROBE, path=package_copy)
    assert r.returncode != 0
    err = r.stderr
    assert "LibraryNotFound" in err and "find_library('imgclass') found nothing" in err
    assert "build/libimgclass.so does not exist (run make)" in err
    assert "imgclass/libimgclass.so does not exist (only a wheel bundles the library)" in err
    assert "IMGCLASS_LIBRARY" in err


def test_an_older_library_is_refused_naming_both_versions(tmp_path):
    src = tmp_path / "fake.c"
    src.write_text('const char *imgclass_version(void) { return "0.1.0"; }\n')
    so = tmp_path / "libfake.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    r = run(PROBE, {"IMGCLASS_LIBRARY": str(so)})
    assert r.returncode != 0
    from imgclass import _lib
    assert "VersionMismatch" in r.stderr and "version 0.1.0, older than " + \
        _lib.BINDING_VERSION in r.stderr, r.stderr


def test_version_rule():
    """Older than the binding: refused, naming both; the same or newer (a
    later library of the same soname reads the binding's structs as far as
    they go): accepted."""
    from imgclass import _lib
    major, minor, patch = (int(p) for p in _lib.BINDING_VERSION.split("."))
    older = [f"{major}.{minor}.{patch - 1}" if patch else f"{major}.{minor - 1}.99",
             "garbage"]
    for got in older:
        with pytest.raises(_lib.VersionMismatch) as e:
            _lib.check_version(got, "L")
        assert f"version {got}, older than {_lib.BINDING_VERSION}" in str(e.value)
    for got in [_lib.BINDING_VERSION, f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0",
                f"{major + 1}.0.0"]:
        assert _lib.check_version(got, "L") == got
    # the real library passes, and is what the header of this tree says
    assert _lib.LIBRARY_VERSION == _lib.BINDING_VERSION


def test_a_library_that_is_not_imgclass_is_refused(tmp_path):
    src = tmp_path / "other.c"
    src.write_text("int something_else(void) { return 1; }\n")
    so = tmp_path / "libother.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    r = run(PROBE, {"IMGCLASS_LIBRARY": str(so)})
    assert r.returncode != 0 and "not libimgclass" in r.stderr


def test_pip_installs_offline(tmp_path):
    """pip install --no-build-isolation, as make install-python runs it,
    into a target folder; the installed package imports and is typed."""
    target = tmp_path / "target"
    build = tmp_path / "src"
    shutil.copytree(PACKAGE, build, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info"))
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--no-index", "--quiet", "--target", str(target),
                        str(build)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (target / "imgclass" / "py.typed").exists()
    assert (target / "imgclass" / "torch.py").exists()
    # every module of the source tree, subpackages (imgclass.dask) included
    src = os.path.join(REPO, "bindings", "python")
    for folder, _, files in os.walk(os.path.join(src, "imgclass")):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, f), src)
                assert (target / rel).exists(), f"pip install left out {rel}"
    r = run(PROBE, {"IMGCLASS_LIBRARY": built_library()}, path=str(target))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "IMGCLASS_LIBRARY"
