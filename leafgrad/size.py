"""``Size`` (PyTorch's shape tuple) and parsing of ``*size`` arguments."""

from __future__ import annotations

import operator

_int = int
_tuple_new = tuple.__new__


def _as_dims(sizes) -> list[_int]:
    """Each dimension as a Python int (anything with ``__index__``: NumPy ints, int tensors)."""
    out = []
    for k, d in enumerate(sizes):
        try:
            out.append(operator.index(d))
        except TypeError:
            raise TypeError(
                f"torch.Size() takes an iterable of 'int' (item {k} is '{type(d).__name__}'); "
                "every dimension of a shape is a whole number"
            ) from None
    return out


class Size(tuple):
    """A tensor shape; a tuple that prints as ``torch.Size([2, 3])``.

    >>> Size([2, 3])
    torch.Size([2, 3])
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        if sizes.__class__ is tuple:
            # Fast path: Tensor.shape wraps NumPy's shape, which is already a tuple of ints.
            for d in sizes:
                if d.__class__ is not _int:
                    break
            else:
                return _tuple_new(cls, sizes)
        return _tuple_new(cls, _as_dims(sizes))

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(str(d) for d in self)}])"

    __str__ = __repr__

    def numel(self) -> int:
        """Number of elements a tensor of this shape holds.

        >>> Size([2, 3]).numel()
        6
        """
        n = 1
        for d in self:
            n *= d
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return _tuple_new(Size, r) if isinstance(i, slice) else r

    # NOTE: PyTorch's Size stays a Size under tuple arithmetic (s + (4,), (4,) + s, s * 2), and
    # like a tuple refuses to concatenate a list.
    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return _tuple_new(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return _tuple_new(Size, tuple.__add__(other, self))

    def __mul__(self, n):
        r = tuple.__mul__(self, n)
        return r if r is NotImplemented else _tuple_new(Size, r)

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


def parse_size(args: tuple, name: str = "size") -> tuple[int, ...]:
    """Turn ``(2, 3)``, ``((2, 3),)`` or ``([2, 3],)`` into ``(2, 3)``, as PyTorch's factories do.

    >>> parse_size((2, 3)), parse_size(((4,),)), parse_size(())
    ((2, 3), (4,), ())
    """
    if len(args) == 1 and args[0].__class__ is not _int:
        a = args[0]
        if isinstance(a, (tuple, list)):
            args = tuple(a)
        elif isinstance(a, bool):
            # NOTE: PyTorch refuses zeros(True) (a bool is not a size), though zeros(2, True) works
            raise TypeError(f"{name} must be a tuple of ints, not bool")
        else:
            # ints, NumPy ints and one-element integer tensors all have __index__
            try:
                return (operator.index(a),)
            except TypeError:
                raise TypeError(
                    f"{name} must be a tuple of ints, not {type(a).__name__}; pass the shape as "
                    "separate ints or one tuple, e.g. zeros(2, 3) or zeros((2, 3))"
                ) from None
    out = []
    for d in args:
        try:
            d = operator.index(d)
        except TypeError:
            raise TypeError(
                f"{name} must be a tuple of ints, but found element of type {type(d).__name__}; "
                "each dimension of a shape is a whole number"
            ) from None
        if d < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {d}: {list(args)}; "
                "every dimension of a shape must be >= 0"
            )
        out.append(d)
    return tuple(out)
