"""int8 post-training static quantization for tools/export_model.py.

The calibration images (calibration_set.py) are preprocessed by imgclass
itself (its CLI's `preprocess --npy`) with the options of the recipe the
model stores (recipe_options.py), so the observers see the very tensors the
library feeds the model at inference, not a Python re-implementation of them. The model
is quantized with torch.ao's FX graph mode for one quantized engine, traced,
frozen, and checked against the float model on the calibration images.
"""
import os
import subprocess
import sys
import tempfile

from calibration_set import calibration_files, fail


def find_imgclass(explicit):
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(os.path.dirname(here), "build", "imgclass")
    if os.access(built, os.X_OK):
        return built
    return "imgclass"


def preprocess_with_imgclass(args, files, options):
    """[N, 3, H, W] float32 from `imgclass preprocess OPTIONS --npy`."""
    import numpy as np
    exe = find_imgclass(args.imgclass)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "calibration.npy")
        cmd = [exe, "preprocess", *options, "--npy", out, *files]
        try:
            run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, check=False)
        except OSError as e:
            fail(f"cannot run {exe} (give --imgclass PATH, or build with make): {e.strerror}")
        # Exit 2: some images were unreadable and left out (named on stderr).
        if run.returncode not in (0, 2) or not os.path.exists(out):
            fail(f"{exe} preprocess failed (exit {run.returncode}): {run.stderr.strip()}")
        if run.returncode == 2:
            print(run.stderr.strip(), file=sys.stderr)
        batch = np.load(out)
    if batch.shape[0] == 0:
        fail(f"--calibrate {args.calibrate}: no image could be decoded")
    return batch


def agreement(torch, float_model, int8_model, batch):
    """Top-1 agreement and the largest probability difference."""
    same, worst = 0, 0.0
    with torch.no_grad():
        for chunk in torch.split(batch, 16):
            pf = torch.softmax(float_model(chunk), 1)
            pq = torch.softmax(int8_model(chunk), 1)
            same += int((pf.argmax(1) == pq.argmax(1)).sum())
            worst = max(worst, float((pf - pq).abs().max()))
    return same, worst


def quantize_int8(args, torch, model, example, calibration):
    """The frozen TorchScript int8 model of `model`, calibrated on --calibrate
    preprocessed with `calibration` (recipe_options.calibration_options())."""
    import copy
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    if args.qengine not in torch.backends.quantized.supported_engines:
        print(f"export_model.py: this torch has no {args.qengine} quantized engine (it has "
              f"{', '.join(torch.backends.quantized.supported_engines)})", file=sys.stderr)
        sys.exit(2)
    options, _, how = calibration
    files = calibration_files(args.calibrate, args.calibrate_count)
    print(f"calibration preprocessing: {how}" + (": " + " ".join(options) if options else ""),
          file=sys.stderr)
    batch = torch.from_numpy(preprocess_with_imgclass(args, files, options))
    if tuple(batch.shape[1:]) != tuple(example.shape[1:]):
        fail(f"calibration tensors are {list(batch.shape[1:])} ({how}) but the model is "
             f"traced at {list(example.shape[1:])}: give --size the calibration size, or "
             f"--preprocess the options that make the traced size")
    torch.backends.quantized.engine = args.qengine
    model = model.eval()
    try:
        prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping(args.qengine),
                              (example,))
    except Exception as e:  # noqa: BLE001 - FX tracing fails on dynamic control flow
        print(f"export_model.py: cannot quantize this model with FX graph mode (it must be "
              f"symbolically traceable): {e}", file=sys.stderr)
        sys.exit(1)
    with torch.no_grad():
        for chunk in torch.split(batch, 16):
            prepared(chunk)
        quantized = convert_fx(prepared)
        frozen = torch.jit.freeze(torch.jit.trace(quantized, example).eval())
    same, worst = agreement(torch, model, frozen, batch)
    n = batch.shape[0]
    print(f"int8 ({args.qengine}) vs float32 on {n} calibration images: top-1 agreement "
          f"{same}/{n} ({100.0 * same / n:.1f}%), largest probability difference {worst:.4f}",
          file=sys.stderr)
    return frozen
