#!/usr/bin/python3
"""Time forward+backward of the digits CNN per batch: PyTorch against Go.

The network is examples/digits/cnn.bp: conv2d of 16 filters 3×3 over one
channel (padding 1, no bias), relu, max_pool2d 2, flatten, a dense layer
to 10 classes with a bias, and cross_entropy summed over the batch (as
LossGradBatch sums). PyTorch runs it in float64 on one thread over the
first 32 training images of the fixed split; the Go side is
BenchmarkCNNLossGradBatch in examples/digits (the generated LossGradBatch on
the same 32 images, one goroutine), run by this script with `go test`,
portable and, unless -nosimd, with GOEXPERIMENT=simd. Each reports the
median and the minimum of its repeats. Not run by the tests or CI; its last output is
scripts/cnn_bench.txt:

    /usr/bin/python3 scripts/cnn_bench.py > scripts/cnn_bench.txt
"""
import gzip
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

BATCH = 32
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def first_batch():
    with gzip.open(os.path.join(ROOT, "examples/digits/digits.csv.gz"), "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.int64)
    train = rows[np.arange(len(rows)) % 4 != 0]  # every fourth image is the test set
    x = torch.tensor(train[:BATCH, :64] / 16.0, dtype=torch.float64).reshape(BATCH, 1, 8, 8)
    y = torch.tensor(train[:BATCH, 64])
    return x, y


def torch_time(repeats=7, iters=200):
    torch.set_num_threads(1)
    torch.manual_seed(1)
    x, y = first_batch()
    k = (torch.randn(16, 1, 3, 3, dtype=torch.float64) / 3).requires_grad_()
    w = (torch.randn(10, 256, dtype=torch.float64) / 16).requires_grad_()
    b = torch.zeros(10, dtype=torch.float64, requires_grad=True)

    def step():
        c = F.relu(F.conv2d(x, k, stride=1, padding=1))
        p = F.max_pool2d(c, 2)
        logits = p.flatten(1) @ w.T + b
        loss = F.cross_entropy(logits, y, reduction="sum")
        loss.backward()  # adds into k.grad, w.grad, b.grad, as LossGradBatch adds into g

    for _ in range(50):
        step()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(iters):
            step()
        times.append((time.perf_counter() - t) / iters)
    return times


def go_time(simd):
    env = dict(os.environ, GOMAXPROCS="1")
    if simd:
        env["GOEXPERIMENT"] = "simd"
    cmd = ["go", "test", "-run", "^$", "-bench", "CNNLossGradBatch", "-cpu", "1", "-count", "7", "./examples/digits"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    return [float(m) * 1e-9 for m in re.findall(r"CNNLossGradBatch\s+\d+\s+([\d.]+) ns/op", out)]


def show(name, times):
    ms = [t * 1e3 for t in times]
    print(f"{name:<38} median {statistics.median(ms):7.3f} ms per batch of {BATCH}  "
          f"(min {min(ms):.3f}, max {max(ms):.3f}, {len(ms)} repeats)")


def main():
    print("command: /usr/bin/python3 scripts/cnn_bench.py > scripts/cnn_bench.txt")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"torch {torch.__version__}, {subprocess.run(['go', 'version'], capture_output=True, text=True).stdout.strip()}")
    print("digits CNN (cnn.bp), float64, forward+backward of the summed cross-entropy, one thread")
    t = torch_time()
    show("PyTorch (1 thread)", t)
    g = go_time(simd=False)
    show("Go LossGradBatch (portable)", g)
    if "-nosimd" not in sys.argv:
        gs = go_time(simd=True)
        show("Go LossGradBatch (GOEXPERIMENT=simd)", gs)
    print("time ratios to PyTorch (the machine is shared and noisy: the minima are the steadier figure)")
    print(f"Go portable / PyTorch: {statistics.median(g) / statistics.median(t):.2f} (medians), {min(g) / min(t):.2f} (minima)")
    if "-nosimd" not in sys.argv:
        print(f"Go simd / PyTorch:     {statistics.median(gs) / statistics.median(t):.2f} (medians), {min(gs) / min(t):.2f} (minima)")


if __name__ == "__main__":
    main()
