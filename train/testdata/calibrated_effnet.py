"""Writes a stand-in for ImageNet weights for chara's training tests.

usage: calibrated_effnet.py OUT.pth DATASET_DIR

A seeded, randomly initialised torchvision efficientnet_b0 whose batch-norm
running statistics are calibrated (cumulative averages in train mode, no
gradients) on the training images of the dataset in DATASET_DIR (train.csv),
normalised with the ImageNet mean and std. With torchvision's
initialisation and the default statistics (mean 0, variance 1) the
eval-mode activations vanish through the network and every image gets the
same features; calibrated, the features differ by image, as pretrained
ones do on natural images, so that the frozen-backbone and fine-tuning
paths can be tested without downloading the real weights.
"""
import csv
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image


def main(out, ds):
    torch.manual_seed(99)
    model = torchvision.models.efficientnet_b0(weights=None)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average
    with open(os.path.join(ds, "train.csv")) as f:
        paths = [row["path"] for row in csv.DictReader(f)]
    imgs = [np.asarray(Image.open(os.path.join(ds, p)).convert("RGB"), dtype=np.float32) / 255 for p in paths]
    x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (x - mean) / std
    # Mixed batches: train.csv is sorted by class, and batches of one class
    # would make the running variances miss the variance between classes.
    x = x[torch.randperm(len(x))]
    model.train()
    for m in model.modules():
        if isinstance(m, torchvision.ops.StochasticDepth):
            m.eval()  # calibrate the statistics eval mode will see
    with torch.no_grad():
        for i in range(0, len(x), 16):
            model(x[i:i + 16])
    torch.save(model.state_dict(), out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
