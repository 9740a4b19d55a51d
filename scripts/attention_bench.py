#!/usr/bin/python3
"""Time forward+backward of the attention example per batch: PyTorch against Go.

The network is examples/attention/reverse.bp: token and position
embeddings (N = 12 positions, width D = 32), one causal self-attention
head (softmax(Q Kᵀ/√D) V, then Wo) with a residual and layer_norm, a
feed-forward part (D → 64 → D, relu) with its own residual and
layer_norm, and a linear layer to the 10 digits whose cross-entropy is
summed over the positions L..N−1 and divided by L = 6; the batch's losses
are summed, as LossGradBatch sums them. PyTorch runs it in float64 on one
thread over a mini-batch of 64 random sequences (main's training batch),
written with the same operations (the embedding rows gathered by the
tokens, as reverse.bp's E[tokens]); the Go side is
BenchmarkReverseLossGradBatch and BenchmarkReverseLossGradLoop in
examples/attention (the generated batch method on 64 sequences, and the
per-sample LossGrad over the same 64, one goroutine), run by this script
with `go test`, portable and, unless -nosimd, with GOEXPERIMENT=simd.
Each reports the median and the minimum of its repeats. Not run by the
tests or CI; its last output is scripts/attention_bench.txt:

    /usr/bin/python3 scripts/attention_bench.py > scripts/attention_bench.txt
"""
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

BATCH, L, N, V, D, FF = 64, 6, 12, 11, 32, 64
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def batch(gen):
    """Tokens and next tokens laid out as examples/attention's encode."""
    x = torch.zeros(BATCH, N, dtype=torch.int64)
    nxt = torch.zeros(BATCH, N, dtype=torch.int64)
    for i in range(BATCH):
        digits = torch.randint(0, 10, (L,), generator=gen).tolist()
        for t, d in enumerate(digits):
            x[i, t] = d
            r = digits[L - 1 - t]
            nxt[i, L + t] = r
            if t < L - 1:
                x[i, L + 1 + t] = r
        x[i, L] = 10
    return x, nxt


def torch_time(repeats=7, iters=50):
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1)
    x, nxt = batch(gen)

    def param(*shape, scale=None):
        t = torch.randn(*shape, generator=gen, dtype=torch.float64)
        if scale is not None:
            t = t * scale
        return t.requires_grad_()

    s = 1 / math.sqrt(D)
    E, P = param(V, D, scale=s), param(N, D, scale=s)
    Wq, Wk, Wv, Wo = (param(D, D, scale=s) for _ in range(4))
    g1, b1 = torch.ones(D, dtype=torch.float64, requires_grad=True), torch.zeros(D, dtype=torch.float64, requires_grad=True)
    W1, c1 = param(D, FF, scale=s), torch.zeros(FF, dtype=torch.float64, requires_grad=True)
    W2, c2 = param(FF, D, scale=1 / math.sqrt(FF)), torch.zeros(D, dtype=torch.float64, requires_grad=True)
    g2, b2 = torch.ones(D, dtype=torch.float64, requires_grad=True), torch.zeros(D, dtype=torch.float64, requires_grad=True)
    Wz, bz = param(10, D, scale=s), torch.zeros(10, dtype=torch.float64, requires_grad=True)
    mask = torch.ones(N, N, dtype=torch.bool).tril()

    def step():
        h = E[x] + P
        q, k, v = h @ Wq, h @ Wk, h @ Wv
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        a = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v
        h = F.layer_norm(h + a @ Wo, (D,), g1, b1, eps=1e-5)
        h = F.layer_norm(h + F.relu(h @ W1 + c1) @ W2 + c2, (D,), g2, b2, eps=1e-5)
        z = h @ Wz.T + bz
        loss = F.cross_entropy(z[:, L:].reshape(-1, 10), nxt[:, L:].reshape(-1), reduction="sum") / L
        loss.backward()  # adds into the .grad of each param, as LossGradBatch adds into g

    for _ in range(20):
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
    cmd = ["go", "test", "-run", "^$", "-bench", "ReverseLossGrad(Batch|Loop)$", "-cpu", "1", "-count", "7", "./examples/attention"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    res = {}
    for name in ("Batch", "Loop"):
        res[name] = [float(m) * 1e-9 for m in re.findall(r"ReverseLossGrad" + name + r"\s+\d+\s+([\d.]+) ns/op", out)]
    return res


def show(name, times):
    ms = [t * 1e3 for t in times]
    print(f"{name:<44} median {statistics.median(ms):7.3f} ms per batch of {BATCH}  "
          f"(min {min(ms):.3f}, max {max(ms):.3f}, {len(ms)} repeats)")


def main():
    print("command: /usr/bin/python3 scripts/attention_bench.py > scripts/attention_bench.txt")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"torch {torch.__version__}, {subprocess.run(['go', 'version'], capture_output=True, text=True).stdout.strip()}")
    print("attention example (reverse.bp), float64, forward+backward of the summed loss, one thread")
    t = torch_time()
    show("PyTorch (1 thread)", t)
    rows = [("portable", go_time(simd=False))]
    if "-nosimd" not in sys.argv:
        rows.append(("GOEXPERIMENT=simd", go_time(simd=True)))
    for build, res in rows:
        show(f"Go LossGradBatch ({build})", res["Batch"])
        show(f"Go LossGrad loop ({build})", res["Loop"])
    print("time ratios to PyTorch (the machine is shared and noisy: the minima are the steadier figure)")
    for build, res in rows:
        for name in ("Batch", "Loop"):
            g = res[name]
            print(f"Go {name.lower():<5} {build:<17} / PyTorch: {statistics.median(g) / statistics.median(t):.2f} (medians), "
                  f"{min(g) / min(t):.2f} (minima)")


if __name__ == "__main__":
    main()
