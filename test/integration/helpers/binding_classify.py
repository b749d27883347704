"""Classifies images with the imgclass Python module that the running
interpreter imports (a wheel in a venv, the Debian package, ...), and prints
the results as `imgclass classify --json --size 8x8 --crop none` does, so
that cli_check.py compares them with PyTorch.

  python binding_classify.py INFO.json MODEL LABELS IMAGE...

INFO.json receives where the module and its library came from. Imports
nothing but imgclass and the standard library: run it with the interpreter
under test, from a folder that does not hold the source tree."""
import json
import sys

import imgclass


def main():
    info_path, model_path, labels, *images = sys.argv[1:]
    with open(info_path, "w") as f:
        json.dump({"module": imgclass.__file__, "library_source": imgclass.library_source,
                   "library_path": imgclass.library_path,
                   "library_version": imgclass.library_version}, f)
    pp = imgclass.PreprocessOptions(resize=(8, 8), crop=None)
    with imgclass.Model(model_path, labels=labels, preprocess=pp) as model:
        results = model.classify(images, topk=-1)
    for path, r in zip(images, results):
        if not r.ok:
            print(json.dumps({"path": path, "error": r.error}))
            continue
        top = [{"index": int(i), "label": label, "probability": float(score)}
               for i, label, score in r.top]
        print(json.dumps({"path": path, "top": top}))


if __name__ == "__main__":
    main()
