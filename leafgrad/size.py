"""``Size`` (PyTorch's shape tuple) and parsing of ``*size`` arguments."""

from __future__ import annotations

import operator


class Size(tuple):
    """A tensor shape; a tuple that prints as ``torch.Size([2, 3])``.

    >>> Size([2, 3])
    torch.Size([2, 3])
    """

    __slots__ = ()

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
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


def parse_size(args: tuple, name: str = "size") -> tuple[int, ...]:
    """Turn ``(2, 3)``, ``((2, 3),)`` or ``([2, 3],)`` into ``(2, 3)``, as PyTorch's factories do.

    >>> parse_size((2, 3)), parse_size(((4,),)), parse_size(())
    ((2, 3), (4,), ())
    """
    if len(args) == 1 and not isinstance(args[0], int):
        a = args[0]
        if hasattr(a, "_data") and a._data.ndim == 0:  # a 0-d integer tensor counts as an int
            args = (int(a._data),)
        elif isinstance(a, (tuple, list)):
            args = tuple(a)
        else:
            try:
                return (operator.index(a),)
            except TypeError:
                raise TypeError(
                    f"{name} must be a tuple of ints, but got {type(a).__name__}; "
                    "pass the shape as ints or one tuple, e.g. zeros(2, 3) or zeros((2, 3))"
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
