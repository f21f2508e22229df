"""PyTorch side of chara's training-step benchmark (BenchmarkTrainStep).

usage: bench_torch.py MODEL HEIGHT WIDTH BATCH THREADS WARMUP STEPS [DEVICE [MODE [READ_EVERY]]]

MODEL is effnet-b0 (torchvision efficientnet_b0 with chara's head: Dropout
0.2, Linear 1280->128, ReLU, Dropout 0.2, Linear 128->15), cnn (the
reference CNN) or cnn2 (the improved CNN: dropout 0.25 after each conv
block, three hidden Linear 50 + ReLU whose weights carry an L2 penalty of
1e-3 times their sum of squares, added to the loss as Keras's
kernel_regularizer does). DEVICE is cpu (default) or cuda[:N]; MODE is fp32
(default), bf16 (forward under torch.autocast in bfloat16, as chara's
--amp) or bf16-cl (bf16 and channels-last memory format, the fastest
PyTorch setting). One step is what chara's trainStep does: the uint8 batch
in host memory is moved to the device and normalised, then forward in
training mode, cross-entropy, zero_grad, backward, the loss (times the
batch size) and the number of right argmax predictions added to sums on
the device, read back to the host every READ_EVERY steps (default 1, as
chara on the CPU; chara reads every 8 steps on a GPU) and before the
timer stops, Adam step (PyTorch's default implementation).
Prints "img/s N".
"""
import sys
import time

import torch
import torchvision


def build(name, classes, h, w):
    if name == "effnet-b0":
        m = torchvision.models.efficientnet_b0(weights=None)
        m.classifier = torch.nn.Sequential(
            torch.nn.Dropout(0.2), torch.nn.Linear(1280, 128), torch.nn.ReLU(),
            torch.nn.Dropout(0.2), torch.nn.Linear(128, classes))
        return m
    if name == "cnn":
        flat = 10 * (((h - 2) // 2 - 2) // 2) * (((w - 2) // 2 - 2) // 2)
        return torch.nn.Sequential(
            torch.nn.Conv2d(3, 10, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(10, 10, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(flat, 50), torch.nn.ReLU(),
            torch.nn.Linear(50, classes))
    if name == "cnn2":
        flat = 15 * (((h - 2) // 2 - 2) // 2) * (((w - 2) // 2 - 2) // 2)
        return torch.nn.Sequential(
            torch.nn.Conv2d(3, 15, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Dropout(0.25),
            torch.nn.Conv2d(15, 15, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Dropout(0.25),
            torch.nn.Flatten(), torch.nn.Linear(flat, 50), torch.nn.ReLU(),
            torch.nn.Linear(50, 50), torch.nn.ReLU(), torch.nn.Linear(50, 50), torch.nn.ReLU(),
            torch.nn.Linear(50, classes))
    raise SystemExit("unknown model " + name)


def l2_weights(name, m):
    """The weights cnn2's L2 penalty covers (its three hidden Linear layers)."""
    if name != "cnn2":
        return []
    return [l.weight for l in m if isinstance(l, torch.nn.Linear)][:3]


def main(name, h, w, batch, threads, warmup, steps, device="cpu", mode="fp32", read_every="1"):
    read_every = int(read_every)
    if mode not in ("fp32", "bf16", "bf16-cl"):
        raise SystemExit("unknown mode " + mode)
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    dev = torch.device(device)
    fmt = torch.channels_last if mode == "bf16-cl" else torch.contiguous_format
    m = build(name, 15, h, w).to(dev, memory_format=fmt)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    x8 = torch.randint(0, 256, (batch, 3, h, w), dtype=torch.uint8)
    y8 = torch.randint(0, 15, (batch,))
    mean = torch.tensor([0.485, 0.456, 0.406], device=dev).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=dev).view(1, 3, 1, 1)
    scale, shift = 1 / (255 * std), -mean / std
    loss_fn = torch.nn.CrossEntropyLoss()
    l2 = l2_weights(name, m)

    sums = torch.zeros(2, dtype=torch.float64, device=dev)
    pending = [0]

    def read():
        v = sums.tolist()
        sums.zero_()
        pending[0] = 0
        return v

    def step():
        x = x8.to(dev).float().mul(scale).add(shift).contiguous(memory_format=fmt)
        y = y8.to(dev)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=mode != "fp32"):
            logits = m(x)
        loss = loss_fn(logits.float(), y)
        if l2:
            loss = loss + 1e-3 * sum(w.square().sum() for w in l2)
        opt.zero_grad()
        loss.backward()
        with torch.no_grad():
            sums[0] += loss.detach().double() * batch
            sums[1] += logits.argmax(1).eq(y).sum().double()
        pending[0] += 1
        if pending[0] >= read_every:
            read()
        opt.step()

    for _ in range(warmup):
        step()
    read()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    read()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    dt = time.perf_counter() - t
    print("img/s %.2f" % (steps * batch / dt))


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]), int(a[6]), *a[7:10])
