"""Wide and deep backward graphs for the layout and browser tests (raw ops: no nn needed)."""

from __future__ import annotations

import leafgrad


def mlp(layers: int = 12, width: int = 4, batch: int = 3):
    """A ReLU MLP of ``layers`` layers; returns its mean-squared loss and the named tensors."""
    leafgrad.manual_seed(0)
    names: dict = {"x": leafgrad.randn(batch, width)}
    h = names["x"]
    for i in range(layers):
        w = leafgrad.randn(width, width, requires_grad=True)
        b = leafgrad.zeros(width, requires_grad=True)
        names[f"W{i}"], names[f"b{i}"] = w, b
        h = (h @ w + b).relu()
    loss = (h ** 2).mean()
    names["loss"] = loss
    return loss, names


def lstm(layers: int = 2, steps: int = 5, hidden: int = 3, batch: int = 2):
    """A ``layers``-layer LSTM unrolled over ``steps`` steps, written with raw tensor ops."""
    leafgrad.manual_seed(0)
    names: dict = {}
    xs = leafgrad.randn(steps, batch, hidden)
    params = []
    for k in range(layers):
        w_ih = leafgrad.randn(hidden, 4 * hidden, requires_grad=True)
        w_hh = leafgrad.randn(hidden, 4 * hidden, requires_grad=True)
        b = leafgrad.zeros(4 * hidden, requires_grad=True)
        names[f"W_ih{k}"], names[f"W_hh{k}"], names[f"b{k}"] = w_ih, w_hh, b
        params.append((w_ih, w_hh, b))
    hs = [leafgrad.zeros(batch, hidden) for _ in range(layers)]
    cs = [leafgrad.zeros(batch, hidden) for _ in range(layers)]
    for t in range(steps):
        inp = xs[t]
        for k, (w_ih, w_hh, b) in enumerate(params):
            gates = inp @ w_ih + hs[k] @ w_hh + b
            i, f, g, o = gates.chunk(4, dim=1)
            cs[k] = f.sigmoid() * cs[k] + i.sigmoid() * g.tanh()
            hs[k] = o.sigmoid() * cs[k].tanh()
            inp = hs[k]
    loss = inp.pow(2).mean()
    names["loss"] = loss
    return loss, names
