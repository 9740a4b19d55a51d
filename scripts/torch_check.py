#!/usr/bin/python3
"""Cross-check the built-ins of the second round against PyTorch (float64).

Runs scripts/torchcheck (values and gradients of generated/builtins at fixed
points), computes the same with torch's own functions and autograd, and
prints one line per point with the largest relative error. Not run by the
tests or CI; its last output is scripts/torch_check.out.

    /usr/bin/python3 scripts/torch_check.py > scripts/torch_check.out
"""
import json
import subprocess
import sys

import mpmath
import torch
import torch.nn.functional as F

TOL = 1e-13
mpmath.mp.dps = 50

# Where torch itself loses accuracy, a point that disagrees with it is
# judged by a 50-digit value of the exact derivative or value (mpmath):
# torch's expm1 backward is y + 1, which cancels for x << 0, and its gelu
# is x·(1 + erf(x/√2))/2, which cancels for x << 0 too.
EXACT = {
    "expm1": lambda x: (mpmath.expm1(x), [mpmath.exp(x)]),
    "gelu": lambda x: (x * mpmath.ncdf(x), [mpmath.ncdf(x) + x * mpmath.npdf(x)]),
}

# name -> function of float64 scalar tensors, all differentiable. Where
# torch takes a parameter as a Python float (elu's alpha, huber's delta),
# its gradient is checked with torch.where over torch functions instead.
FUNCS = {
    "cosh": torch.cosh,
    "sinh": torch.sinh,
    "asin": torch.asin,
    "acos": torch.acos,
    "expm1": torch.expm1,
    "log2": torch.log2,
    "log10": torch.log10,
    "square": lambda x: torch.square(x) + torch.square(x + 1),  # builtins.bp's f_square
    "rsqrt": torch.rsqrt,
    "gelu": lambda x: F.gelu(x),  # exact (erf) form, torch's default
    "silu": F.silu,
    "softsign": F.softsign,
    "elu": lambda x, a: F.elu(x, a.item()) if x.item() > 0 else a * torch.expm1(x),
    "clip": lambda x, lo, hi: torch.clamp(x, min=lo, max=hi),
    "huber": lambda a, b, d: F.huber_loss(a, b, reduction="none", delta=d.item())
    if abs((a - b).item()) <= d.item() else d * (torch.abs(a - b) - 0.5 * d),
    "bce_with_logits": lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="sum"),
}


def rel(got, want):
    if got == want:
        return 0.0
    return abs(got - want) / max(abs(want), 1e-300)


def main():
    out = subprocess.run(["go", "run", "./scripts/torchcheck"], check=True, capture_output=True, text=True).stdout
    worst, failed = 0.0, 0
    print(f"torch {torch.__version__}, float64; tolerance {TOL:g} relative")
    for line in out.splitlines():
        p = json.loads(line)
        args = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in p["args"]]
        value = FUNCS[p["name"]](*args)
        grads = torch.autograd.grad(value, args, allow_unused=True)
        want = [value.item()] + [0.0 if g is None else g.item() for g in grads]
        got = [p["value"]] + p["grad"]
        err = max(rel(g, w) for g, w in zip(got, want))
        ok = "ok"
        if err > TOL and p["name"] in EXACT:
            v, g = EXACT[p["name"]](*[mpmath.mpf(a) for a in p["args"]])
            err = max(rel(a, float(b)) for a, b in zip(got, [v] + g))
            ok = "ok*"  # torch is off; the exact value agrees
        worst = max(worst, err)
        if err > TOL:
            ok = "FAIL"
        failed += err > TOL
        print(f"{ok:4} {p['name']:16} {str(p['args']):22} value {got[0]:<24.17g} grad {got[1:]}  rel.err {err:.2g}")
    print(f"{failed} failed; largest relative error {worst:.2g}")
    print("ok* = differs from torch, whose formula cancels there, and agrees with mpmath's exact value")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
