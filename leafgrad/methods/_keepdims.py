"""PyTorch's ``keepdims`` spelling of ``keepdim`` (its argument parser accepts both).

>>> def total(x, dim=None, keepdim=False):
...     return keepdim
>>> accept_keepdims(total)([1], 0, keepdims=True)
True
"""

from __future__ import annotations

__all__ = ["accept_keepdims", "accept_keepdims_in"]


def _has_keepdim(f) -> bool:
    """``f`` takes ``keepdim`` (by name, or through ``**kwargs`` it passes on, as std does)."""
    code = getattr(f, "__code__", None)
    if code is None:
        return False
    named = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return "keepdim" in named or bool(code.co_flags & 0x08) and "dim" not in named


def accept_keepdims(f):
    """``f``, also accepting ``keepdims=`` for its ``keepdim`` parameter (if it has one)."""
    if not _has_keepdim(f):
        return f

    def with_keepdims(*args, keepdims=None, **kwargs):
        if keepdims is not None:
            if "keepdim" in kwargs:
                raise TypeError(f"{f.__name__}() got both keepdim and keepdims; pass one")
            kwargs["keepdim"] = keepdims
        return f(*args, **kwargs)

    with_keepdims.__name__, with_keepdims.__qualname__ = f.__name__, f.__qualname__
    with_keepdims.__doc__, with_keepdims.__wrapped__ = f.__doc__, f
    with_keepdims.__module__ = f.__module__
    return with_keepdims


def accept_keepdims_in(namespace: dict, names, cls: type | None = None) -> None:
    """Wrap the functions ``names`` of ``namespace`` (and every method of ``cls``) that take
    ``keepdim``."""
    for name in names:
        f = namespace.get(name)
        if callable(f):
            namespace[name] = accept_keepdims(f)
    if cls is not None:
        for name, f in list(vars(cls).items()):
            if callable(f) and _has_keepdim(f):
                setattr(cls, name, accept_keepdims(f))
