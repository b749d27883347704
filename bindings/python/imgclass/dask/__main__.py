"""python3 -m imgclass.dask: classify a folder (or glob, or URL pattern) on a
Dask cluster and write imgclass-watch-style part files.

    python3 -m imgclass.dask (--scheduler tcp://HOST:8786 | --local N)
        --model M.pt [--labels L] --input DIR|GLOB --output DIR
        [--batch 8] [--partition-size 256] [--topk 5] [--format jsonl|tsv]
        [--input-size N] [--threads-per-worker T] [--progress|--no-progress]

The model is fed by its own recipe (the imgclass.json tools/export_model.py
stores in it), else torchvision's ImageNet recipe; --input-size overrides
the crop as imgclass.Model(input_size=N) does. Shows Dask's progress bar, then a summary line. Exit 0 when every image was
classified, 2 when some got error records, 1 on failure (or SIGINT/SIGTERM:
finished parts stay; running the same command again skips them).
"""
import argparse
import signal
import sys
import time


def parse(argv):
    ap = argparse.ArgumentParser(prog="python3 -m imgclass.dask",
                                 description="classify images on a Dask cluster")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler", help="address of a running scheduler (tcp://HOST:8786)")
    where.add_argument("--local", type=int, metavar="N",
                       help="start a LocalCluster of N worker processes")
    ap.add_argument("--threads-per-worker", type=int, default=None,
                    help="with --local: threads per worker (default: CPUs / N)")
    ap.add_argument("--model", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--input", required=True, help="folder, glob pattern or fsspec URL pattern")
    ap.add_argument("--output", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--partition-size", type=int, default=256)
    ap.add_argument("--topk", type=int, default=5)
    ap.add_argument("--format", choices=["jsonl", "tsv"], default="jsonl")
    ap.add_argument("--input-size", type=int, default=None,
                    help="the model's input size: by default its recipe's crop (224 "
                         "without a recipe); with a recipe it overrides the crop")
    ap.add_argument("--progress", dest="progress", action="store_true", default=None,
                    help="Dask's progress bar (default: when standard output is a terminal)")
    ap.add_argument("--no-progress", dest="progress", action="store_false")
    a = ap.parse_args(argv)
    if a.local is not None and a.local < 1:
        ap.error("--local needs N >= 1")
    return a


class Stop(Exception):
    pass


def _stop(signum, _frame):
    raise Stop(signal.Signals(signum).name)


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    from distributed import Client, progress

    import imgclass.dask as icd
    from imgclass.dask import _parts

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    cluster = None
    client = None
    try:
        if a.local is not None:
            cluster = icd.local_cluster(a.local, a.threads_per_worker)
            client = Client(cluster)
        else:
            client = Client(a.scheduler)
        paths = icd.expand_paths(a.input)
        if not paths:
            print(f"imgclass.dask: no input files in {a.input}", file=sys.stderr)
            return 1
        started = time.perf_counter()
        bag = icd.classify_paths(paths, a.model, a.labels, client=client, batch=a.batch,
                                 partition_size=a.partition_size, topk=a.topk,
                                 output=a.output, format=a.format, input_size=a.input_size)
        future = client.compute(bag)
        if a.progress or (a.progress is None and sys.stdout.isatty()):
            progress(future)  # Dask's own bar (on standard output)
            print()
        summaries = future.result()
        seconds = time.perf_counter() - started
        key = icd.job_key(paths, a.model, a.partition_size, a.topk, a.format, a.input_size)
        _parts.remove_leftovers(a.output, key)
        records = sum(s["records"] for s in summaries)
        errors = sum(s["errors"] for s in summaries)
        skipped = sum(1 for s in summaries if s.get("skipped"))
        print(f"imgclass.dask: {records} images in {len(summaries)} parts "
              f"({skipped} from an earlier run), {errors} errors, {seconds:.1f} s, "
              f"{records / seconds:.1f} images/s; output in {a.output}", file=sys.stderr)
        return 2 if errors else 0
    except Stop as e:
        print(f"imgclass.dask: stopped by {e}; finished parts are kept, rerun to finish",
              file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - one clear line, not a traceback
        print(f"imgclass.dask: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if client is not None:
            if cluster is not None:  # a shared cluster keeps its models for the next job
                try:
                    from imgclass.dask import _worker
                    client.run(_worker.shutdown)  # pipelines joined before workers stop
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
            client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    sys.exit(main())
