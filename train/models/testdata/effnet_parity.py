"""Writes torchvision EfficientNet-B0 reference data for chara's parity test.

usage: effnet_parity.py OUTDIR

OUTDIR/effnet_b0.pth     torch.save(model.state_dict()) of a seeded, randomly
                         initialised torchvision.models.efficientnet_b0
                         (batch-norm statistics and affine parameters are
                         randomised too, so that eval mode is not an identity)
OUTDIR/input.f32         a random batch, little-endian float32
OUTDIR/features.f32      eval-mode flatten(avgpool(features(x))), float32
OUTDIR/meta.json         the shapes of the two arrays
OUTDIR/bad_missing.pth   the state dict without features.3.1.block.2.fc1.bias
OUTDIR/bad_unexpected.pth  ... with an extra features.9.0.weight
OUTDIR/bad_shape.pth     ... with features.0.0.weight of shape [32, 3, 5, 5]
"""
import json
import os
import sys

import torch
import torchvision


def main(out):
    torch.manual_seed(1234)
    model = torchvision.models.efficientnet_b0(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    model.eval()
    x = torch.randn(2, 3, 64, 48)
    with torch.no_grad():
        f = torch.flatten(model.avgpool(model.features(x)), 1)
    sd = model.state_dict()
    torch.save(sd, os.path.join(out, "effnet_b0.pth"))
    x.numpy().astype("<f4").tofile(os.path.join(out, "input.f32"))
    f.numpy().astype("<f4").tofile(os.path.join(out, "features.f32"))
    with open(os.path.join(out, "meta.json"), "w") as fh:
        json.dump({"input": list(x.shape), "features": list(f.shape),
                   "torch": torch.__version__, "torchvision": torchvision.__version__}, fh)

    bad = dict(sd)
    del bad["features.3.1.block.2.fc1.bias"]
    torch.save(bad, os.path.join(out, "bad_missing.pth"))
    bad = dict(sd)
    bad["features.9.0.weight"] = torch.zeros(4, 4)
    torch.save(bad, os.path.join(out, "bad_unexpected.pth"))
    bad = dict(sd)
    bad["features.0.0.weight"] = torch.zeros(32, 3, 5, 5)
    torch.save(bad, os.path.join(out, "bad_shape.pth"))


if __name__ == "__main__":
    main(sys.argv[1])
