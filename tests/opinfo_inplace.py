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


def _fill_tensor(a, b):
    y = a * 2
    y.fill_(b)          # a 0-d tensor value: it gets the sum of the gradient (FillBackward3)
    return y * a


def _shape_inplace(a, method, *args):
    y = a * 1
    getattr(y, method)(*args)  # the in-place shape methods: TBackward1, SqueezeBackward3...
    return y * 2


OPS = [
    OpInfo("inplace_view_mul", lambda m, a: _mul_view(a), ((3,), (3, 2)), funcs=()),
    OpInfo("inplace_view_read", lambda m, a: _read_view_after(a), ((3, 2), (2, 2, 3))),
    OpInfo("copy_into_view", lambda m, a, b: _copy_into_view(a, b), (((3, 2), (3, 1)),
                                                                      ((3, 2), ()))),
    OpInfo("copy_", lambda m, a, b: _copy(a, b), (((2, 3), (2, 3)), ((2, 3), (3,)))),
    OpInfo("fill_", lambda m, a: _fill(a), ((3,), (2, 2))),
    OpInfo("zero_", lambda m, a: _zero(a), ((3,), (2, 2))),
    OpInfo("fill_tensor", lambda m, a, b: _fill_tensor(a, b), (((3,), ()), ((2, 2), ())),
           funcs=()),
    OpInfo("t_", lambda m, a: _shape_inplace(a, "t_"), ((2, 3), (3,))),
    OpInfo("transpose_", lambda m, a: _shape_inplace(a, "transpose_", 0, 1), ((2, 3),)),
    OpInfo("unsqueeze_", lambda m, a: _shape_inplace(a, "unsqueeze_", 1), ((2, 3),)),
    OpInfo("squeeze_", lambda m, a: _shape_inplace(a, "squeeze_"), ((2, 1, 3),)),
    OpInfo("squeeze_dim", lambda m, a: _shape_inplace(a, "squeeze_", 1), ((2, 1, 3),)),
    OpInfo("squeeze_dims", lambda m, a: _shape_inplace(a, "squeeze_", (1, 3)), ((2, 1, 3, 1),)),
]
