"""PyTorch side of chara's training-step benchmark (BenchmarkTrainStep).

usage: bench_torch.py MODEL HEIGHT WIDTH BATCH THREADS WARMUP STEPS

MODEL is effnet-b0 (torchvision efficientnet_b0 with chara's head: Dropout
0.2, Linear 1280->128, ReLU, Dropout 0.2, Linear 128->15) or cnn (the
reference CNN). One step is what chara's trainStep does: forward in
training mode, cross-entropy, zero_grad, backward, Adam step, argmax.
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
    raise SystemExit("unknown model " + name)


def main(name, h, w, batch, threads, warmup, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    m = build(name, 15, h, w)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, h, w)
    y = torch.randint(0, 15, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        logits = m(x)
        loss = loss_fn(logits, y)
        loss.backward()
        opt.step()
        logits.argmax(1)
        return float(loss)

    for _ in range(warmup):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t
    print("img/s %.2f" % (steps * batch / dt))


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]), int(a[6]))
