"""dtype objects, the default dtype, and PyTorch's type-promotion rules."""

from __future__ import annotations

import numpy as np

__all__ = [
    "dtype", "float16", "half", "float32", "float", "float64", "double", "int8", "int16", "short",
    "int32", "int", "int64", "long", "uint8", "bool", "get_default_dtype", "set_default_dtype",
    "promote_types", "result_type", "can_cast", "bfloat16",
]

_builtin_bool, _builtin_int, _builtin_float = bool, int, float

# Promotion categories: bool < integer < floating; PyTorch only lets a Python scalar or a 0-d
# tensor change the result dtype when it belongs to a higher category.
_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type, printed as PyTorch prints it (``torch.float32``).

    >>> import leafgrad
    >>> leafgrad.float32, leafgrad.float32.itemsize
    (torch.float32, 4)
    """

    __slots__ = ("name", "np", "category", "itemsize", "is_floating_point", "is_signed",
                 "is_complex", "_rank")

    def __init__(self, name: str, np_dtype: np.dtype, category: _builtin_int, rank: _builtin_int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == _FLOAT
        self.is_signed = name not in ("uint8", "bool")
        self.is_complex = False
        self._rank = rank

    def __repr__(self) -> str:
        # NOTE: PyTorch code and tutorials print ``torch.float32``; leafgrad is a drop-in, so its
        # dtypes print the same way and printed tensors match PyTorch byte for byte.
        return "torch." + self.name

    __str__ = __repr__

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> dtype:
        """Return the real counterpart (the dtype itself: complex dtypes are not supported yet).

        >>> import leafgrad
        >>> leafgrad.float64.to_real()
        torch.float64
        """
        return self


bool = dtype("bool", np.bool_, _BOOL, 0)  # noqa: A001 - PyTorch's public name
uint8 = dtype("uint8", np.uint8, _INT, 1)
int8 = dtype("int8", np.int8, _INT, 1)
int16 = dtype("int16", np.int16, _INT, 2)
int32 = dtype("int32", np.int32, _INT, 3)
int64 = dtype("int64", np.int64, _INT, 4)
float16 = dtype("float16", np.float16, _FLOAT, 5)
float32 = dtype("float32", np.float32, _FLOAT, 6)
float64 = dtype("float64", np.float64, _FLOAT, 7)
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_NAMES = {d.name: d for d in ALL}


class _NamedOnly(dtype):
    """A PyTorch dtype leafgrad can name but not store: creating a tensor of it raises.

    Scripts mention ``torch.bfloat16`` in comparisons, ``autocast(dtype=...)`` and dtype tables
    even when they never make such a tensor; those work. Anything that needs its array type
    (a factory, ``.to``, promotion) raises a TypeError that says why.
    """

    __slots__ = ("_why",)

    def __init__(self, name: str, itemsize: _builtin_int, why: str) -> None:
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = True
        self.is_signed = True
        self.is_complex = False
        self._why = why

    def _refuse(self):
        raise TypeError(self._why)

    np = property(_refuse)  # type: ignore[assignment]
    category = property(_refuse)  # type: ignore[assignment]
    _rank = property(_refuse)  # type: ignore[assignment]


# NOTE: bfloat16 is a clear error rather than a dtype through the ml_dtypes package: NumPy has no
# bfloat16, and PyTorch rounds every bfloat16 op from float32 its own way; a dtype that is not
# checked op by op against PyTorch would be silently wrong, which is worse than a TypeError.
bfloat16 = _NamedOnly(
    "bfloat16", 2,
    "bfloat16 tensors are not supported by leafgrad: NumPy has no bfloat16 type, and leafgrad's "
    "ops have not been checked against PyTorch's bfloat16 rounding. Use torch.float32 (or "
    "torch.float16, which leafgrad supports)")
_NAMES["bfloat16"] = bfloat16
# numpy dtype -> leafgrad dtype; numpy dtypes hash by value, so any equal np.dtype finds its entry
FROM_NP: dict[np.dtype, dtype] = {d.np: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_np(np_dtype) -> dtype:
    """Map a NumPy dtype to the leafgrad dtype, with a clear error for unsupported ones.

    >>> import numpy as np
    >>> from_np(np.dtype("float64"))
    torch.float64
    """
    try:
        return FROM_NP[np_dtype]
    except (KeyError, TypeError):
        pass
    npd = np.dtype(np_dtype)
    if npd in FROM_NP:
        return FROM_NP[npd]
    if npd.kind == "u" and npd.itemsize > 1:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{npd.name}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool. "
            f"Cast it first, e.g. arr.astype(np.int64)."
        )
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{npd.name}. The only supported types are: "
        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
    )


def as_dtype(d) -> dtype:
    """Accept a leafgrad dtype, a NumPy dtype or a Python type and return the leafgrad dtype.

    >>> as_dtype("double"), as_dtype(np.dtype("int32"))
    (torch.float64, torch.int32)
    """
    if d.__class__ is dtype:
        return d
    if d is _builtin_float:
        return float64
    if d is _builtin_int:
        return int64
    if d is _builtin_bool:
        return bool
    if isinstance(d, dtype):
        return d  # a _NamedOnly dtype: it raises where its array type is needed
    if isinstance(d, str):
        d = d.removeprefix("torch.")
        if d in _NAMES:
            return _NAMES[d]
        aliases = {"float": float32, "double": float64, "half": float16, "int": int32,
                   "long": int64, "short": int16}
        if d in aliases:
            return aliases[d]
    return from_np(d)


class _Default:
    """The process-wide default floating dtype (PyTorch's is global, not thread-local)."""

    value: dtype = float32


def get_default_dtype() -> dtype:
    """Return the default floating-point dtype (float32 unless changed).

    >>> get_default_dtype()
    torch.float32
    """
    return _Default.value


def set_default_dtype(d: dtype) -> None:
    """Set the default floating-point dtype; only float dtypes are allowed, as in PyTorch.

    >>> set_default_dtype(float64); get_default_dtype()
    torch.float64
    >>> set_default_dtype(float32)
    """
    # NOTE: PyTorch accepts only a torch.dtype here (not ``float``, a string or a NumPy dtype)
    if d.__class__ is not dtype:
        raise TypeError(
            "invalid dtype object: only floating-point types are supported as the default type "
            f"(got {type(d).__name__}); pass a dtype such as torch.float64"
        )
    if not d.is_floating_point:
        raise TypeError(
            f"only floating-point types are supported as the default type, got {d}; "
            "the default dtype is what float literals like 1.5 become, so it must be a float"
        )
    _Default.value = d


def _dtype_arg(d, fn: str, pos: _builtin_int) -> dtype:
    """A dtype argument as PyTorch's parser takes it: a dtype, or the Python type float/int/bool."""
    if isinstance(d, dtype):
        return d
    if d is _builtin_float or d is _builtin_int or d is _builtin_bool:
        return as_dtype(d)
    raise TypeError(
        f"{fn}(): argument 'type{pos}' (position {pos}) must be torch.dtype, not {type(d).__name__}"
    )


def promote_types(a: dtype, b: dtype) -> dtype:
    """Promote two dtypes the way ``torch.promote_types`` does.

    >>> promote_types(int64, float16), promote_types(uint8, int8)
    (torch.float16, torch.int16)
    """
    if a.__class__ is not dtype or b.__class__ is not dtype:
        a, b = _dtype_arg(a, "promote_types", 1), _dtype_arg(b, "promote_types", 2)
    if a is b:
        return a
    if a.category == _FLOAT or b.category == _FLOAT:
        # NOTE: unlike NumPy, PyTorch never widens a float because of an integer partner
        # (int64 + float16 -> float16), so the larger float wins.
        if a.category != _FLOAT:
            return b
        if b.category != _FLOAT:
            return a
        return a if a._rank > b._rank else b
    if a is bool:
        return b
    if b is bool:
        return a
    if {a, b} == {uint8, int8}:
        return int16
    if a is uint8:
        return b if b._rank > 1 else int16
    if b is uint8:
        return a if a._rank > 1 else int16
    return a if a._rank > b._rank else b


def _scalar_dtype(v) -> dtype:
    """The dtype a Python number takes part in promotion with (a 'wrapped number' in PyTorch)."""
    if v.__class__ is _builtin_bool or isinstance(v, np.bool_):
        return bool
    if isinstance(v, (_builtin_int, np.integer)):
        return int64
    if isinstance(v, (_builtin_float, np.floating)):
        return _Default.value
    if isinstance(v, (complex, np.complexfloating)):
        raise TypeError("complex numbers are not supported by leafgrad (no complex dtypes yet)")
    raise TypeError(
        f"expected a Tensor or a Python number (bool, int, float), but got {type(v).__name__}"
    )


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """Let ``lower`` (a less dimensioned group) change ``higher`` only across a category."""
    if higher is None:
        return lower
    if lower is None or higher.category == _FLOAT:
        return higher
    if higher is bool or lower.category == _FLOAT:
        return promote_types(higher, lower)
    return higher


def _result_type(*operands) -> dtype:
    """``result_type`` over any number of tensors, arrays and Python scalars."""
    dim = zero = wrapped = None
    for op in operands:
        data = getattr(op, "_data", None)
        if data is None and isinstance(op, np.ndarray):
            data = op
        if data is not None:
            d = from_np(data.dtype)
            if data.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            d = _scalar_dtype(op)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    out = _combine(dim, _combine(zero, wrapped))
    return out if out is not None else _Default.value


def result_type(tensor, other) -> dtype:
    """The dtype PyTorch gives an op over two tensors / Python scalars (``torch.result_type``).

    Tensors with dimensions decide first, then 0-d tensors, then Python scalars, each group only
    able to raise the category (an int64 tensor times 2.5 is float32, not float64).

    >>> import leafgrad
    >>> result_type(leafgrad.tensor([1, 2]), 2.5)
    torch.float32
    """
    return _result_type(tensor, other)


def can_cast(from_: dtype, to: dtype) -> _builtin_bool:
    """Whether an in-place op may write a ``from_`` result into a ``to`` tensor (no category drop).

    >>> can_cast(float32, int64), can_cast(int64, float32)
    (False, True)
    """
    return from_.category <= to.category
