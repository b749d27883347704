#!/usr/bin/env python3
"""Builds the tiny TorchScript models, fixed inputs, PyTorch-computed expected
outputs and label files that the engine's unit tests read.

    python3 test/models/make_test_models.py DIR

Everything is seeded, so the files are the same on every run. Raw tensors are
little-endian float32 with no header; their shapes are fixed here and in
test/unit/model_fixtures.h:
  tiny.pt          3x8x8 -> 5 classes (conv + batchnorm + relu + pool + linear)
  tiny16.pt        3x16x16 -> 10 classes
  two_class.pt     3x8x8 -> 2 classes
  rank3.pt         3x8x8 -> [N, 5, 1] (wrong output rank)
  fixed_batch.pt   3x8x8 -> always [1, 5] whatever the batch size
  fixed_batch_frozen.pt  the same, frozen (what a model-cache entry holds)
  tuple_out.pt     3x8x8 -> (scores, scores), not a tensor
  fail_batch3.pt   as tiny.pt, but raises an error for a batch of exactly 3
                   (an engine failure in the middle of a stream)
  tiny.pt.gz       gzip copy of tiny.pt
  tiny_truncated.pt   the first half of tiny.pt
  not_a_model.zip  a zip archive holding a text file
  not_a_model.txt  text
  tiny_input.f32   4x3x8x8 inputs for tiny.pt
  tiny_logits.f32  4x5 logits PyTorch computes for them
  tiny_probs.f32   4x5 softmax of those
  tiny16_input.f32 / tiny16_probs.f32  3x3x16x16 / 3x10
  labels_*         label files for 5 classes (and a wrong count)
  tiny_recipe.pt   tiny.pt's network carrying a recipe (imgclass.json): shorter
                   14, crop 12x10, bicubic, mean 0.5, std 0.25, labels a..e
  tiny_recipe_*.pt the same with a broken recipe (bad field, not JSON, 6 labels,
                   no fixed input size)
  tiny_int8.pt     tiny.pt quantized to int8 for onednn (FX graph mode, frozen)
  tiny_int8_probs.f32  4x5 softmax PyTorch computes for tiny_input.f32 with it
  tiny_int8.none   instead of those two when this torch has no onednn engine:
                   "no onednn: ..." (the one reason test_model.c may skip for;
                   any other failure to quantize stops this script)
  quant_probe_u8.pt    3x8x8 -> 192: the input quantized to quint8 by
                       quantize_per_tensor(x, float, int) and dequantized
  quant_probe_s8.pt    the same in qint8 with the tensor_qparams overload
  quant_probe_shared.pt  as quant_probe_u8.pt, but the input has a second use
                       (its size), so imgclass leaves the quantize to torch
  quant_probe_input.f32  8x3x8x8 inputs for them: exact rounding ties, their
                       neighbours, the clamp edges, +-0, huge values,
                       infinities and NaN
  quant_probe_*_out.f32  8x192 outputs PyTorch computes for them
"""
import gzip
import os
import sys
import zipfile

import torch
import torch.nn as nn


class TinyNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, classes)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class Rank3(TinyNet):
    def forward(self, x):
        return super().forward(x).unsqueeze(2)


class FixedBatch(TinyNet):
    def forward(self, x):
        return super().forward(x)[:1]


class TupleOut(TinyNet):
    def forward(self, x):
        y = super().forward(x)
        return y, y


class FailBatch3(TinyNet):
    def forward(self, x):
        if x.size(0) == 3:
            raise RuntimeError("fail_batch3: refusing a batch of 3")
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class Tied(TinyNet):
    """Scores that tie exactly whatever the input: classes 1, 2 and 4 share
    the best logit, 0 and 3 the next, so only the tie rule (the lower index
    first) decides the order: 1, 2, 4, 0, 3."""
    def __init__(self, classes):
        super().__init__(classes)
        self.register_buffer("tied", torch.tensor([1.0, 3.0, 3.0, 1.0, 3.0]))

    def forward(self, x):
        return super().forward(x) * 0 + self.tied


def make(cls, classes, seed):
    torch.manual_seed(seed)
    m = cls(classes)
    # Non-trivial batchnorm statistics, so freezing (which folds them into
    # the convolution) has something to do.
    with torch.no_grad():
        m.bn.running_mean.uniform_(-0.5, 0.5)
        m.bn.running_var.uniform_(0.5, 2.0)
        m.bn.weight.uniform_(0.5, 1.5)
        m.bn.bias.uniform_(-0.2, 0.2)
    return m.eval()


def save_script(model, example, path):
    traced = torch.jit.trace(model, example)
    traced.save(path)
    return torch.jit.load(path)


def write_f32(path, tensor):
    with open(path, "wb") as f:
        f.write(tensor.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes())


class QuantProbe(nn.Module):
    """Quantizes its input and dequantizes it again: the output shows every
    quantized value (IMGCLASS_OPTIMIZE_QUANTIZE_INPUT's exactness check)."""
    def __init__(self, scale, zero_point, dtype, tensor_qparams, shared):
        super().__init__()
        self.scale, self.zero_point, self.dtype = scale, zero_point, dtype
        self.tensor_qparams, self.shared = tensor_qparams, shared

    def forward(self, x):
        if self.tensor_qparams:
            q = torch.quantize_per_tensor(x, torch.tensor(self.scale),
                                          torch.tensor(self.zero_point), self.dtype)
        else:
            q = torch.quantize_per_tensor(x, self.scale, self.zero_point, self.dtype)
        y = q.dequantize()
        return y.reshape(x.size(0), -1) if self.shared else torch.flatten(y, 1)


def quant_probe_input(scales):
    """8x3x8x8 float32 values that test the rounding of x / scale for each
    scale: exact ties k + 0.5 (x * (1 / scale) computed in float32, as torch
    does) across the whole range, the floats on either side, the clamp
    edges; then signed zeros, huge values, infinities and NaN, then random
    values."""
    import numpy as np
    picked = [np.array([0.0, -0.0, 1e30, -1e30, np.inf, -np.inf, np.nan, 2.0 ** 62, 2.0 ** 63,
                        -(2.0 ** 63), 3e9, -3e9], dtype=np.float32)]
    for scale in scales:
        inv = np.float32(1.0) / np.float32(scale)
        k = np.arange(-300, 300, dtype=np.float32) + np.float32(0.5)
        ties = (k / inv).astype(np.float32)
        ties = ties[(ties * inv) == k]                   # the ones that are exact ties
        ties = ties[np.linspace(0, len(ties) - 1, 60).astype(int)]
        picked += [ties, np.nextafter(ties, np.float32(np.inf)),
                   np.nextafter(ties, np.float32(-np.inf)),
                   np.array([1024, -1024, 1023.5, -1023.5, 127.5, -128.5, 255.5], np.float32) / inv]
    picked = np.concatenate(picked).astype(np.float32)
    rng = np.random.default_rng(7)
    rest = (rng.random(8 * 192 - len(picked), dtype=np.float32) * 6 - 3).astype(np.float32)
    return torch.from_numpy(np.concatenate([picked, rest]).reshape(8, 3, 8, 8).copy())


def write_quant_probes(p):
    x = quant_probe_input([0.018622005358338356, 0.0123])
    write_f32(p("quant_probe_input.f32"), x)
    probes = {"u8": (0.018622005358338356, 114, torch.quint8, False, False),
              "s8": (0.0123, -3, torch.qint8, True, False),
              "shared": (0.018622005358338356, 114, torch.quint8, False, True)}
    for name, args in probes.items():
        m = torch.jit.freeze(torch.jit.script(QuantProbe(*args)).eval())
        m.save(p(f"quant_probe_{name}.pt"))
        with torch.inference_mode():
            write_f32(p(f"quant_probe_{name}_out.f32"), torch.jit.load(p(f"quant_probe_{name}.pt"))(x))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_test_models.py DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    torch.set_num_threads(1)

    x8 = torch.zeros(2, 3, 8, 8)
    loaded = save_script(make(TinyNet, 5, 1), x8, p("tiny.pt"))
    save_script(make(TinyNet, 10, 2), torch.zeros(2, 3, 16, 16), p("tiny16.pt"))
    save_script(make(TinyNet, 2, 3), x8, p("two_class.pt"))
    save_script(make(Rank3, 5, 4), x8, p("rank3.pt"))
    fixed = save_script(make(FixedBatch, 5, 5), x8, p("fixed_batch.pt"))
    torch.jit.freeze(fixed.eval()).save(p("fixed_batch_frozen.pt"))
    save_script(make(TupleOut, 5, 6), x8, p("tuple_out.pt"))
    save_script(make(Tied, 5, 7), x8, p("tied.pt"))
    # Scripted, not traced: the branch on the batch size must survive.
    torch.jit.script(make(FailBatch3, 5, 1)).save(p("fail_batch3.pt"))

    with open(p("tiny.pt"), "rb") as f:
        archive = f.read()
    with open(p("tiny.pt.gz"), "wb") as f:
        f.write(gzip.compress(archive, mtime=0))
    with open(p("tiny_truncated.pt"), "wb") as f:
        f.write(archive[: len(archive) // 2])
    with zipfile.ZipFile(p("not_a_model.zip"), "w") as z:
        z.writestr("readme.txt", "this zip holds no TorchScript module\n")
    with open(p("not_a_model.txt"), "w") as f:
        f.write("hello, I am not a model\n")

    # Expected outputs: computed by PyTorch from the saved archive itself.
    g = torch.Generator().manual_seed(42)
    inp = torch.randn(4, 3, 8, 8, generator=g)
    with torch.inference_mode():
        logits = loaded(inp)
    write_f32(p("tiny_input.f32"), inp)
    write_f32(p("tiny_logits.f32"), logits)
    write_f32(p("tiny_probs.f32"), torch.softmax(logits, 1))

    loaded16 = torch.jit.load(p("tiny16.pt"))
    inp16 = torch.randn(3, 3, 16, 16, generator=g)
    with torch.inference_mode():
        probs16 = torch.softmax(loaded16(inp16), 1)
    write_f32(p("tiny16_input.f32"), inp16)
    write_f32(p("tiny16_probs.f32"), probs16)

    # imgclass_classify's expected scores (test/unit/test_classify.c):
    # three images through torchvision's exact 8 x 8 resize + ImageNet
    # normalisation and tiny.pt, so that test never takes its expected
    # values from the library it checks.
    import numpy as np
    from PIL import Image
    from torchvision import transforms as T

    def pattern(w, h, seed):
        y, x, c = np.mgrid[0:h, 0:w, 0:3]
        return ((x * 17 + y * 29 + c * 71 + seed * 53) ^ (x * y)).astype(np.uint8)

    imgs = [Image.fromarray(pattern(13, 9, 1)), Image.fromarray(pattern(20, 30, 2)),
            Image.fromarray(pattern(11, 7, 3))]
    imgs[0].save(p("classify_a.bmp"))
    imgs[1].save(p("classify_b.png"))
    with open(p("classify_c.rgb"), "wb") as f:  # 11 x 7, raw RGB rows
        f.write(np.asarray(imgs[2]).tobytes())
    recipe = T.Compose([T.Resize((8, 8)), T.CenterCrop(8), T.ToTensor(),
                        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    with torch.inference_mode():
        probs = torch.softmax(loaded(torch.stack([recipe(im) for im in imgs])), 1)
    write_f32(p("classify_probs.f32"), probs)

    # int8: tiny.pt's network quantized for onednn, calibrated on random
    # inputs, and its expected scores from Python running the saved file.
    # Only a torch built without onednn (outside this project) leaves them
    # out, and says so in tiny_int8.none; any other failure raises here,
    # so the test models (and make) fail instead of the int8 test going
    # quietly missing.
    for stale in ("tiny_int8.pt", "tiny_int8_probs.f32", "tiny_int8.none"):
        if os.path.exists(p(stale)):
            os.remove(p(stale))
    engines = torch.backends.quantized.supported_engines
    if "onednn" not in engines:
        with open(p("tiny_int8.none"), "w") as f:
            f.write("no onednn: this torch's quantized engines are %s\n" % ", ".join(engines))
    else:
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
        torch.backends.quantized.engine = "onednn"
        prepared = prepare_fx(make(TinyNet, 5, 1), get_default_qconfig_mapping("onednn"),
                              (x8,))
        with torch.no_grad():
            prepared(torch.randn(16, 3, 8, 8, generator=g))
            q = torch.jit.freeze(torch.jit.trace(convert_fx(prepared), x8).eval())
        q.save(p("tiny_int8.pt"))
        reloaded = torch.jit.load(p("tiny_int8.pt"))
        with torch.inference_mode():
            write_f32(p("tiny_int8_probs.f32"), torch.softmax(reloaded(inp), 1))

    write_quant_probes(p)

    # Labels for the 5-class model in every accepted form.
    synsets = ["n01440764 tench, Tinca tinca", "n01443537 goldfish, Carassius auratus",
               "n01484850 great white shark", "n01491361 tiger shark", "n01494475 hammerhead"]
    with open(p("labels_synset.txt"), "w") as f:
        f.write("\n".join(synsets) + "\n")
    with open(p("labels_synset.txt.gz"), "wb") as f:
        f.write(gzip.compress(("\n".join(synsets) + "\n").encode(), mtime=0))
    # CRLF line ends, an empty label in the middle, trailing empty lines.
    with open(p("labels_plain_crlf.txt"), "wb") as f:
        f.write(b"cat\r\ndog\r\n\r\nn0123 not an id\r\nbird\r\n\r\n\r\n")
    import json
    with open(p("labels_index_to_name.json"), "w") as f:
        json.dump({str(i): s.split(" ", 1) for i, s in enumerate(synsets)}, f)
    with open(p("labels_strings.json"), "w") as f:
        json.dump({str(i): n for i, n in enumerate(["a", "b", "c", "d", "e"])}, f)
    with open(p("labels_wrong_count.txt"), "w") as f:
        f.write("a\nb\nc\nd\n")
    with open(p("labels_missing_key.json"), "w") as f:
        json.dump({"0": "a", "1": "b", "2": "c", "3": "d", "5": "f"}, f)
    # Models that carry a recipe (imgclass.json in the archive's extra
    # files, as tools/export_model.py writes it) and broken ones.
    recipe = {"version": 1, "resize_mode": "shorter", "resize_size": 14, "crop": [12, 10],
              "interpolation": "bicubic", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
              "labels": ["a", "b", "c", "d", "e"], "source": "make_test_models.py"}
    traced_recipe = torch.jit.trace(make(TinyNet, 5, 1), torch.zeros(2, 3, 12, 10))
    def save_recipe(name, text):
        torch.jit.save(traced_recipe, p(name), _extra_files={"imgclass.json": text})
    save_recipe("tiny_recipe.pt", json.dumps(recipe))
    save_recipe("tiny_recipe_bad_interp.pt", json.dumps(dict(recipe, interpolation="lanczos")))
    save_recipe("tiny_recipe_not_json.pt", '{"version": 1, "resize_mode": ')
    save_recipe("tiny_recipe_labels6.pt", json.dumps(dict(recipe, labels=list("abcdef"))))
    save_recipe("tiny_recipe_no_size.pt",
                json.dumps(dict(recipe, resize_mode="none", crop=None)))
    print("test models written to", out)


if __name__ == "__main__":
    main()
