"""W1's floor for a Python engine: the W1 chain on a minimal autograd engine over NumPy.

The smallest reverse-mode engine that still builds a graph of node objects and walks it with
dependency counts, as any eager autograd does, but with none of leafgrad's guards (no version
counters, hooks, grad mode, dtype rules, views, saved-tensor checks, explain sites) and NumPy's
plain float32 kernels. It shows how much of W1's time is the price of a Python engine at all,
against leafgrad and torch (one thread), measured side by side (CPU time, interleaved):

    python benchmarks/w1_floor.py            # --repeats N
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import measure_cpu, report  # noqa: E402
from w1_small_chain import N_OPS, chain  # noqa: E402


class T:
    """A tensor: data, the node that made it, whether it needs a gradient."""

    __slots__ = ("data", "fn", "rg", "grad")

    def __init__(self, data, fn=None, rg=False):
        self.data, self.fn, self.rg, self.grad = data, fn, rg, None

    def _rec(self, out, node):
        return T(out, node, True) if self.rg else T(out)

    def __mul__(self, o):
        return self._rec(self.data * o.data, Mul(self, o))

    def __add__(self, c):
        return self._rec(self.data + np.float32(c), Add(self))

    def sin(self):
        return self._rec(np.sin(self.data), Sin(self))

    def tanh(self):
        out = np.tanh(self.data)
        return self._rec(out, Tanh(self, out))

    def __pow__(self, e):
        return self._rec(self.data * self.data, Sq(self))

    def sum(self):
        return self._rec(np.asarray(self.data.sum()), Sum(self))

    def backward(self):
        deps, stack = {}, [self.fn]
        while stack:  # consumers per node, as an engine must count them
            for nxt in stack.pop().nexts:
                if nxt in deps:
                    deps[nxt] += 1
                else:
                    deps[nxt] = 1
                    stack.append(nxt)
        ready, buf = [(self.fn, np.ones((), np.float32))], {}
        while ready:
            fn, g = ready.pop()
            for nxt, gi in zip(fn.nexts, fn.backward(g)):
                buf[nxt] = gi if nxt not in buf else buf[nxt] + gi
                deps[nxt] -= 1
                if not deps[nxt]:
                    ready.append((nxt, buf.pop(nxt)))


class Leaf:
    __slots__ = ("t", "nexts")

    def __init__(self, t):
        self.t, self.nexts = t, ()

    def backward(self, g):
        self.t.grad = g if self.t.grad is None else self.t.grad + g
        return ()


def _edge(t):
    if t.fn is None:
        t.fn = Leaf(t)
    return t.fn


class Mul:
    __slots__ = ("a", "b", "nexts")

    def __init__(self, a, b):
        self.a, self.b, self.nexts = a.data, b.data, (_edge(a), _edge(b))

    def backward(self, g):
        return g * self.b, g * self.a


class Add:
    __slots__ = ("nexts",)

    def __init__(self, a):
        self.nexts = (_edge(a),)

    def backward(self, g):
        return (g,)


class Sin:
    __slots__ = ("x", "nexts")

    def __init__(self, x):
        self.x, self.nexts = x.data, (_edge(x),)

    def backward(self, g):
        return (g * np.cos(self.x),)


class Tanh:
    __slots__ = ("y", "nexts")

    def __init__(self, x, y):
        self.y, self.nexts = y, (_edge(x),)

    def backward(self, g):
        return (g * (1 - self.y * self.y),)


class Sq:
    __slots__ = ("x", "nexts")

    def __init__(self, x):
        self.x, self.nexts = x.data, (_edge(x),)

    def backward(self, g):
        return (g * (self.x + self.x),)


class Sum:
    __slots__ = ("shape", "nexts")

    def __init__(self, x):
        self.shape, self.nexts = x.data.shape, (_edge(x),)

    def backward(self, g):
        return (np.broadcast_to(g, self.shape),)


class _Lib:
    """Just enough of a torch-like module for ``w1_small_chain.chain``."""

    @staticmethod
    def tensor(v, requires_grad=False):
        return T(np.array(v, np.float32), None, requires_grad)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=40)
    args = p.parse_args(argv)
    import torch

    import leafgrad

    floor = chain(_Lib)
    want = chain(torch)().numpy()
    assert np.allclose(floor(), want, rtol=1e-4, atol=1e-6), "the floor engine is wrong"
    torch_default = chain(torch)

    def torch_1thread():
        torch.set_num_threads(1)
        return torch_default()

    med = measure_cpu({"leafgrad": chain(leafgrad), "torch (1 thread)": torch_1thread,
                       "minimal engine": floor}, repeats=args.repeats)
    print(report("W1 floor: CPU time per op, forward + backward", med, per=N_OPS, unit="µs",
                 baseline="torch (1 thread)"))


if __name__ == "__main__":
    main()
