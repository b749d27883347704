#!/usr/bin/python3
"""The Python binding end to end, the counterpart of e2e_reference.py and of
`imgclass classify --tsv`: load the model, classify every file, write
`path<TAB>index<TAB>probability` per image (or `path<TAB>error<TAB>message`)
in input order.

    python_classify.py MODEL.pt OUT.tsv [--mode classify|pipeline] [--batch 8]
                       [--threads 2] [--callers 1] FILE...

--mode classify: model.classify() on batches of --batch files, from
--callers Python threads sharing the model (each call releases the GIL).
--mode pipeline: model.pipeline(batch=--batch).map(files).
Needs `import imgclass` to work (run.py sets PYTHONPATH and IMGCLASS_LIBRARY).
"""
import argparse
import sys
from concurrent.futures import ThreadPoolExecutor

import imgclass


def line(r):
    if r.ok:
        return f"{r.input}\t{r.top[0].index}\t{r.top[0].score:.9g}\n"
    return f"{r.input}\terror\t{r.error}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--mode", choices=["classify", "pipeline"], default="classify")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="engine threads")
    ap.add_argument("--preprocess-threads", type=int, default=0)
    ap.add_argument("--callers", type=int, default=1, help="Python threads calling classify")
    args = ap.parse_args()

    with imgclass.Model(args.model, threads=args.threads,
                        preprocess_threads=args.preprocess_threads) as model, \
            open(args.out, "w") as out:
        if args.mode == "pipeline":
            with model.pipeline(batch=args.batch, topk=1,
                                preprocess_threads=args.preprocess_threads) as pipe:
                for r in pipe.map(args.files):
                    out.write(line(r))
            return 0
        chunks = [args.files[i:i + args.batch] for i in range(0, len(args.files), args.batch)]
        with ThreadPoolExecutor(args.callers) as pool:
            for results in pool.map(lambda c: model.classify(c, topk=1), chunks):
                out.writelines(line(r) for r in results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
