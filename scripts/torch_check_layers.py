#!/usr/bin/python3
"""Reference values for the axis ops and layers, from PyTorch (float64).

For each tiny model in scripts/torchcheck/ops (one per op or layer), draws
its params and inputs, computes with torch's own functions and autograd its
outputs, its loss and the loss's gradient for every param, and writes them
all to scripts/torchcheck/ops/testdata/torch.json. The Go test of that
package (go test ./scripts/torchcheck/ops) evaluates the generated models at
the same params and inputs and compares, so neither it nor CI needs Python.
Regenerate with

    /usr/bin/python3 scripts/torch_check_layers.py

Each model's loss is sum(y * R) over its outputs y, R fixed random inputs,
so the gradients are torch's vector-Jacobian products of every output.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torchcheck", "ops", "testdata", "torch.json")


def sm(M, R0, R1, f):
    y0, y1 = f(M, dim=0), f(M, dim=-1)
    return [y0, y1], (y0 * R0).sum() + (y1 * R1).sum()


def reduce_axes(f):
    def run(M, R0, R1):
        y0, y1 = f(M, 0), f(M, 1)
        return [y0, y1], (y0 * R0).sum() + (y1 * R1).sum()
    return run


def conv2(x, w1, w2, R1, R2):
    y1 = F.conv2d(x.unsqueeze(0), w1, stride=2, padding=1).squeeze(0)
    y2 = F.conv2d(x.unsqueeze(0), w2, stride=1, padding=2).squeeze(0)
    return [y1, y2], (y1 * R1).sum() + (y2 * R2).sum()


def conv1(x, w, R):
    y = F.conv1d(x.unsqueeze(0), w, stride=2, padding=1).squeeze(0)
    return [y], (y * R).sum()


def pool(f):
    def run(x, R2, R3):
        y2, y3 = f(x.unsqueeze(0), 2).squeeze(0), f(x.unsqueeze(0), 3).squeeze(0)
        return [y2, y3], (y2 * R2).sum() + (y3 * R3).sum()
    return run


def lnorm(X, g1, b1, v, g2, b2, R1, R2):
    y1 = F.layer_norm(X, (6,), g1, b1, eps=1e-5)
    y2 = F.layer_norm(v, (5,), g2, b2, eps=1e-5)
    return [y1, y2], (y1 * R1).sum() + (y2 * R2).sum()


def sdpa(Q, K, V, causal=False):
    # scaled_dot_product_attention's definition (this torch may predate
    # F.scaled_dot_product_attention): is_causal keeps keys j <= i, the
    # mask aligned at the top left.
    s = Q @ K.transpose(0, 1) / (Q.shape[-1] ** 0.5)
    if causal:
        keep = torch.ones(Q.shape[0], K.shape[0], dtype=torch.bool).tril()
        s = s.masked_fill(~keep, float("-inf"))
    return torch.softmax(s, dim=-1) @ V


def attn(Q, K, V, R0, R1):
    y0 = sdpa(Q, K, V)
    y1 = sdpa(Q, K, V, causal=True)
    return [y0, y1], (y0 * R0).sum() + (y1 * R1).sum()


def offsets(w, x, X, v, R):
    loss = 0
    for t in range(3, 8):
        y = (w * x[t - 3:t]).sum() * x[t] + x[t - 1] * x[t - 3] + ((X[t - 3:t - 1, :] @ v) * X[t - 1, :]).sum()
        loss = loss + R[t - 3] * y
    return [], loss


def gather(E, A, R1, R2, tokens, grid):
    y1, y2 = E[tokens], A[grid]
    return [y1, y2], (y1 * R1).sum() + (torch.tanh(y2) * R2).sum()


def xent(Z, labels):
    return [], F.cross_entropy(Z, labels, reduction="sum")


# model -> (params [(name, shape)], float inputs [(name, shape)], int inputs
# [(name, shape, classes)], function of params, floats and ints in that
# order returning (outputs, loss)), in the .bp files' declaration order.
CASES = {
    "bcast": ([("A", [3, 4]), ("b", [4])], [("R", [3, 4])], [],
              lambda A, b, R: ([A + b], ((A + b) * R).sum())),
    "sum_axis": ([("M", [3, 4])], [("R0", [4]), ("R1", [3])], [], reduce_axes(torch.sum)),
    "mean_axis": ([("M", [3, 4])], [("R0", [4]), ("R1", [3])], [], reduce_axes(torch.mean)),
    "amax_axis": ([("M", [3, 4])], [("R0", [4]), ("R1", [3])], [], reduce_axes(torch.amax)),
    "logsumexp_axis": ([("M", [3, 4])], [("R0", [4]), ("R1", [3])], [], reduce_axes(torch.logsumexp)),
    "softmax": ([("M", [3, 4])], [("R0", [3, 4]), ("R1", [3, 4])], [],
                lambda M, R0, R1: sm(M, R0, R1, torch.softmax)),
    "log_softmax": ([("M", [3, 4])], [("R0", [3, 4]), ("R1", [3, 4])], [],
                    lambda M, R0, R1: sm(M, R0, R1, torch.log_softmax)),
    "xent": ([("Z", [4, 5])], [], [("labels", [4], 5)], xent),
    "conv1": ([("x", [2, 9]), ("w", [3, 2, 3])], [("R", [3, 5])], [], conv1),
    "conv2": ([("x", [2, 7, 6]), ("w1", [3, 2, 3, 2]), ("w2", [2, 2, 3, 3])],
              [("R1", [3, 4, 4]), ("R2", [2, 9, 8])], [], conv2),
    "maxpool": ([("x", [2, 6, 7])], [("R2", [2, 3, 3]), ("R3", [2, 2, 2])], [], pool(F.max_pool2d)),
    "avgpool": ([("x", [2, 6, 7])], [("R2", [2, 3, 3]), ("R3", [2, 2, 2])], [], pool(F.avg_pool2d)),
    "lnorm": ([("X", [3, 6]), ("g1", [6]), ("b1", [6]), ("v", [5]), ("g2", [5]), ("b2", [5])],
              [("R1", [3, 6]), ("R2", [5])], [], lnorm),
    "attn": ([("Q", [4, 3]), ("K", [5, 3]), ("V", [5, 2])], [("R0", [4, 2]), ("R1", [4, 2])], [], attn),
    "offsets": ([("w", [3]), ("x", [8]), ("X", [7, 2]), ("v", [2])], [("R", [5])], [], offsets),
    "gather": ([("E", [5, 3]), ("A", [4, 2])], [("R1", [6, 3]), ("R2", [2, 3, 2])],
               [("tokens", [6], 5), ("grid", [2, 3], 4)], gather),
}


def flat(ts):
    return [x for t in ts for x in t.detach().reshape(-1).tolist()]


def main():
    out = {"torch": torch.__version__, "command": "/usr/bin/python3 scripts/torch_check_layers.py", "models": {}}
    for seed, (name, (params, floats, ints, f)) in enumerate(CASES.items()):
        gen = torch.Generator().manual_seed(seed + 1)

        def draw(shape, scale):
            return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale

        ps = [draw(s, 2).requires_grad_() for _, s in params]
        fs = [draw(s, 1) for _, s in floats]
        its = [torch.randint(0, c, s, generator=gen) for _, s, c in ints]
        ys, loss = f(*ps, *fs, *its)
        grads = torch.autograd.grad(loss, ps)
        out["models"][name] = {
            "params": flat(ps),
            "floats": flat(fs),
            "ints": [int(i) for t in its for i in t.reshape(-1).tolist()],
            "outputs": flat(ys),
            "loss": loss.item(),
            "grad": flat(grads),
        }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"wrote {OUT}: {len(CASES)} models, torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
