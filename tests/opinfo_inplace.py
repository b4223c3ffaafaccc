"""Op-table rows for in-place ops recorded in the graph: CopySlices (views), copy_, fill_, zero_."""

from __future__ import annotations

from opinfo import OpInfo


def _mul_view(a):
    y = a * 1
    y[1:].mul_(2)       # a view of a non-leaf: the base's history becomes CopySlices
    return y


def _read_view_after(a):
    y = a * 1
    v = y[..., :1]
    v.add_(y[..., 1:2].exp())  # the view reads its region out of the new base (AsStrided)
    return v * 3


def _copy_into_view(a, b):
    y = a * 0
    y[:, :1].copy_(b)
    return y


def _copy(a, b):
    y = a * 1
    y.copy_(b)
    return y


def _fill(a):
    y = a * 2
    y.fill_(1.5)
    return y * a


def _zero(a):
    y = a * 2
    y.zero_()
    return y + a


OPS = [
    OpInfo("inplace_view_mul", lambda m, a: _mul_view(a), ((3,), (3, 2)), funcs=()),
    OpInfo("inplace_view_read", lambda m, a: _read_view_after(a), ((3, 2), (2, 2, 3))),
    OpInfo("copy_into_view", lambda m, a, b: _copy_into_view(a, b), (((3, 2), (3, 1)),
                                                                      ((3, 2), ()))),
    OpInfo("copy_", lambda m, a, b: _copy(a, b), (((2, 3), (2, 3)), ((2, 3), (3,)))),
    OpInfo("fill_", lambda m, a: _fill(a), ((3,), (2, 2))),
    OpInfo("zero_", lambda m, a: _zero(a), ((3,), (2, 2))),
]
