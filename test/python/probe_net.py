"""A tiny "classifier" for recipe tests, built by tools/export_model.py
--module test/python/probe_net.py:ProbeNet.

Its scores are the preprocessed input itself, sampled by nearest-neighbour
interpolation at a fixed 8 x 8 grid (192 "classes"), so any change of
resize, crop, interpolation, mean or std changes them; and sampling does
no arithmetic on the values, so its output does not depend on the batch
size or the thread count: the binding's answers can be compared with
torch's bit for bit."""
import torch
import torch.nn.functional as F


class ProbeNet(torch.nn.Module):
    def forward(self, x):
        return F.interpolate(x, size=(8, 8), mode="nearest").flatten(1)
