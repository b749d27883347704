#!/usr/bin/python3
"""Driver of bench/classify_bench.py: the Python binding's
Model.classify(paths) over COUNT images in calls of PER_CALL paths, after
one untimed call; prints one JSON object with its rate.

    python_classify_calls.py BUILD MODEL LISTFILE COUNT PER_CALL THREADS
"""
import json
import os
import sys
import time

build, model, listfile, count, per_call, threads = sys.argv[1:7]
count, per_call, threads = int(count), int(per_call), int(threads)
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(here), "bindings", "python"))
os.environ.setdefault("IMGCLASS_LIBRARY", os.path.join(build, "libimgclass.so"))
import imgclass  # noqa: E402

files = [line.strip() for line in open(listfile) if line.strip()]
with imgclass.Model(model, threads=threads) as m:
    m.classify(files[:8])  # warm-up, untimed
    t0 = time.monotonic()
    done = 0
    while done < count:
        n = min(per_call, count - done)
        results = m.classify([files[(done + i) % len(files)] for i in range(n)])
        if not all(r.ok for r in results):
            sys.exit("python_classify_calls: %s" % next(r.error for r in results if not r.ok))
        done += n
    secs = time.monotonic() - t0
print(json.dumps({"mode": "python-classify", "per_call": per_call, "images": count,
                  "images_per_s": count / secs}))
