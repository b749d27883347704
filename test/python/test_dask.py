"""imgclass.dask on a LocalCluster of 2 worker processes: every image
exactly once with the CLI's top-1, error records, a worker killed mid-job,
one model load per worker, reruns, fsspec URLs, the command."""
import errno
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

import imgclass.dask as icd  # the project's own module: an ImportError fails
from conftest import REPO, build_dir, pixels

# Dask's distributed scheduler is not the project's: without it, a skip.
distributed = pytest.importorskip("distributed", reason="python3-distributed is not installed")

N_GOOD = 300


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("dask_in")
    for i in range(N_GOOD):
        w, h = 160 + (i * 7) % 200, 120 + (i * 13) % 150
        Image.fromarray(pixels(w, h, i)).save(d / f"img{i:03d}.jpg", quality=90)
    (d / "bad_truncated.jpg").write_bytes((d / "img000.jpg").read_bytes()[:300])
    (d / "bad_text.jpg").write_bytes(b"this is not an image\n")
    (d / "bad_empty.png").write_bytes(b"")
    return str(d)


@pytest.fixture(scope="module")
def model(models):
    return os.path.join(models, "tiny16.pt")


@pytest.fixture(scope="module")
def cluster():
    with icd.local_cluster(2, 1) as c, distributed.Client(c) as client:
        yield c, client


def read_parts(output):
    """{path: [records]} over every finished part; in-progress files are
    not parts."""
    out = {}
    for part in glob.glob(os.path.join(output, "dt=*", "hour=*", "part-*.jsonl")):
        with open(part) as f:
            for line in f:
                r = json.loads(line)
                out.setdefault(r["path"], []).append(r)
    return out


@pytest.fixture(scope="module")
def cli_top1(folder, model):
    """`imgclass classify --json` on the same files: the reference top-1."""
    r = subprocess.run([os.path.join(build_dir(), "imgclass"), "classify", "--model", model,
                        "--json", "--no-progress", folder], capture_output=True, text=True)
    assert r.returncode in (0, 2), r.stderr
    top = {}
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        top[rec["path"]] = rec["top"][0]["index"] if "top" in rec else None
    assert len(top) == N_GOOD + 3
    return top


def check_exactly_once(output, folder, cli_top1):
    got = read_parts(output)
    files = sorted(glob.glob(os.path.join(folder, "*")))
    assert sorted(got) == files
    assert all(len(v) == 1 for v in got.values()), [p for p, v in got.items() if len(v) != 1]
    for p, (rec,) in got.items():
        if os.path.basename(p).startswith("bad_"):
            assert "top" not in rec and os.path.basename(p) in rec["error"], rec
            assert cli_top1[p] is None
        else:
            assert "error" not in rec, rec
            assert rec["top"][0]["index"] == cli_top1[p], p
            assert rec["time"].endswith("Z")
    return got


def test_every_image_once_with_the_cli_top1(cluster, folder, model, cli_top1, tmp_path):
    _, client = cluster
    out = str(tmp_path / "out")
    bag = icd.classify_paths(folder, model, output=out, partition_size=25, topk=3)
    summaries = client.compute(bag).result()
    assert len(summaries) == 13 and sum(s["records"] for s in summaries) == N_GOOD + 3
    assert sum(s["errors"] for s in summaries) == 3
    got = check_exactly_once(out, folder, cli_top1)
    assert len(next(iter(got.values()))[0].get("top", [1, 2, 3])) == 3
    # One model load per worker process, however many tasks each ran.
    loads = icd.worker_load_counts(client)
    assert sorted(loads.values()) == [1, 1]
    # The engine's threads follow the worker's (threads_per_worker=1).
    import imgclass
    assert sorted(client.run(imgclass.get_num_threads).values()) == [1, 1]
    # Rerunning the same job keeps the finished parts and writes nothing new.
    before = sorted(glob.glob(os.path.join(out, "*", "*", "*")))
    again = client.compute(icd.classify_paths(folder, model, output=out, partition_size=25,
                                              topk=3)).result()
    assert all(s.get("skipped") for s in again) and sum(s["errors"] for s in again) == 3
    assert sorted(glob.glob(os.path.join(out, "*", "*", "*"))) == before
    assert sorted(icd.worker_load_counts(client).values()) == [1, 1]


def open_fifo_writer(fifo, seconds):
    """The write end of `fifo` once a reader has opened it (polled: a
    non-blocking open fails with ENXIO until then), or None after
    `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise
        time.sleep(0.005)
    return None


def readers_of(fifo, pids):
    """The pids among `pids` that hold `fifo` open."""
    out = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == fifo:
                    out.append(pid)
                    break
            except OSError:
                pass
    return out


def wait_until_closed_by_all(fifo, seconds):
    """Waits until no process on this machine holds `fifo` open (or
    `seconds` pass: the caller's loop then goes on)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        if not readers_of(fifo, pids):
            return
        time.sleep(0.005)


def test_worker_killed_mid_job(cluster, folder, model, cli_top1, tmp_path):
    """A worker dies while it certainly runs a task: one input is a FIFO that
    the test opens for writing but does not write, so whichever worker reads
    it is stuck there (and the job cannot end) until the test has killed it.
    The retried task then reads the bytes of img000.jpg from the FIFO."""
    _, client = cluster
    out = str(tmp_path / "out")
    fifo = str(tmp_path / "held.jpg")
    os.mkfifo(fifo)
    paths = sorted(glob.glob(os.path.join(folder, "*")))
    paths.insert(150, fifo)  # in the middle of the job
    pids = client.run(os.getpid)
    future = client.compute(icd.classify_paths(paths, model, output=out, partition_size=10))
    held = open_fifo_writer(fifo, 120)
    assert held is not None, "no worker opened the FIFO within 120 s"
    deadline = time.time() + 60
    while not readers_of(fifo, pids.values()) and time.time() < deadline:
        time.sleep(0.005)
    victims = readers_of(fifo, pids.values())
    assert len(victims) == 1, f"FIFO readers among the workers {sorted(pids.values())}: {victims}"
    assert not future.done()  # the FIFO's task waits for its bytes
    victim = victims[0]
    os.kill(victim, signal.SIGKILL)
    os.close(held)
    # The retry (on the other worker or the nanny's new one) reads the FIFO
    # again: give each reader the image's bytes until the job is done.
    source = os.path.join(folder, "img000.jpg")
    with open(source, "rb") as f:
        data = f.read()
    served = 0
    while not future.done():
        w = open_fifo_writer(fifo, 1)
        if w is None:
            continue
        try:
            os.set_blocking(w, True)
            os.write(w, data)
            served += 1
        except BrokenPipeError:
            pass
        finally:
            os.close(w)
        # The reader sees end of file only once no writer is open: wait until
        # it has read the image and closed the FIFO before opening it again,
        # or a slow reader (a loaded machine) reads copy after copy as one
        # endless file.
        wait_until_closed_by_all(fifo, 60)
    summaries = future.result(timeout=300)
    assert served >= 1
    assert len(summaries) == 31
    got = read_parts(out)
    assert sorted(got) == sorted(paths)
    assert all(len(v) == 1 for v in got.values()), [p for p, v in got.items() if len(v) != 1]
    (rec,) = got.pop(fifo)
    assert "error" not in rec and rec["top"][0]["index"] == cli_top1[source], rec
    for p, (rec,) in got.items():
        if os.path.basename(p).startswith("bad_"):
            assert "top" not in rec and os.path.basename(p) in rec["error"], rec
        else:
            assert "error" not in rec and rec["top"][0]["index"] == cli_top1[p], rec
    assert victim not in client.run(os.getpid).values()  # the nanny started a new one
    icd._parts.remove_leftovers(out, icd.job_key(paths, model, 10, 5, "jsonl"))
    assert not [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".inprogress")]


def test_bag_of_records_in_order(cluster, folder, model):
    _, client = cluster
    paths = sorted(glob.glob(os.path.join(folder, "*")))[:20] + [os.path.join(folder, "nope.jpg")]
    records = client.compute(icd.classify_paths(paths, model, partition_size=6)).result()
    assert [r["path"] for r in records] == paths
    assert records[-1]["error"] and "nope.jpg" in records[-1]["error"]
    assert records[-1]["index"] == -1
    ok = [r for r in records if r["error"] is None]
    assert len(ok) >= 17 and all(r["top"][0][0] == r["index"] for r in ok)


def test_fsspec_file_urls(cluster, folder, model):
    _, client = cluster
    pattern = "file://" + os.path.join(folder, "img00*.jpg")
    paths = icd.expand_paths(pattern)
    assert len(paths) == 10
    records = client.compute(icd.classify_paths(pattern, model, partition_size=4)).result()
    assert [r["error"] for r in records] == [None] * 10


def test_tsv_parts(cluster, folder, model, cli_top1, tmp_path):
    _, client = cluster
    out = str(tmp_path / "out")
    paths = sorted(glob.glob(os.path.join(folder, "*")))[:12]  # 3 bad ones first
    client.compute(icd.classify_paths(paths, model, output=out, partition_size=5,
                                      format="tsv")).result()
    parts = glob.glob(os.path.join(out, "dt=*", "hour=*", "part-*.tsv"))
    assert len(parts) == 3
    rows = sorted(line.rstrip("\n").split("\t") for p in parts for line in open(p))
    assert [r[0] for r in rows] == paths
    for path, index, _label, prob in rows:
        want = cli_top1[path]
        assert int(index) == (-1 if want is None else want)
        assert (prob == "nan") == (want is None)


def test_the_command(cluster, folder, model, cli_top1, tmp_path):
    c, _ = cluster
    out = str(tmp_path / "out")
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "bindings", "python"))
    r = subprocess.run([sys.executable, "-m", "imgclass.dask", "--scheduler", c.scheduler_address,
                        "--model", model, "--input", folder, "--output", out,
                        "--partition-size", "64"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 2, r.stderr  # 3 error records
    assert f"{N_GOOD + 3} images in 5 parts" in r.stderr and "3 errors" in r.stderr
    check_exactly_once(out, folder, cli_top1)
    bad = subprocess.run([sys.executable, "-m", "imgclass.dask", "--scheduler",
                          c.scheduler_address, "--model", model, "--input",
                          str(tmp_path / "empty*"), "--output", out],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1 and "no input files" in bad.stderr


def test_argument_mistakes(model, folder):
    with pytest.raises(ValueError, match="format"):
        icd.classify_paths(folder, model, format="csv")
    with pytest.raises(ValueError, match="partition_size"):
        icd.classify_paths(folder, model, partition_size=0)
    with pytest.raises(ValueError, match="no input files"):
        icd.classify_paths(os.path.join(folder, "*.nothing"), model)
