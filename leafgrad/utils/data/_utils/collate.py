"""``default_collate`` and ``default_convert``: turn a list of samples into a batch.

Tensors and NumPy arrays are stacked along a new first dimension, Python floats become a
float64 tensor, ints an int64 tensor, strings stay a list; dicts, tuples, namedtuples and lists
are collated field by field, as torch does.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable

import numpy as np

from .... import dtypes as _dt
from ....creation import as_tensor, tensor
from ....tensor import Tensor, _wrap

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def default_convert(data):
    """Turn NumPy arrays and scalars (also inside containers) into tensors; leave the rest.

    >>> import numpy as np
    >>> default_convert({"x": np.arange(2)})
    {'x': tensor([0, 1])}
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({k: default_convert(data[k]) for k in data})
                return clone
            return elem_type({k: default_convert(data[k]) for k in data})
        except TypeError:
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map: dict[type | tuple[type, ...], Callable] | None = None):
    """Collate ``batch`` using ``collate_fn_map`` (type -> function) for the leaves.

    >>> collate([(1, "a"), (2, "b")], collate_fn_map=default_collate_fn_map)
    [tensor([1, 2]), ('a', 'b')]
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for kind in collate_fn_map:
            if isinstance(elem, kind):
                return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        def field(k):
            try:
                column = [d[k] for d in batch]
            except KeyError:
                raise RuntimeError(
                    f"each element in list of batch should have the same keys\nWhy: the first "
                    f"sample has key {k!r} and another sample does not; the dataset must return "
                    "dicts with the same keys, or pass a collate_fn.") from None
            return collate(column, collate_fn_map=collate_fn_map)
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({k: field(k) for k in elem})
                return clone
            return elem_type({k: field(k) for k in elem})
        except TypeError:
            return {k: field(k) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            sizes = sorted({len(e) for e in batch})
            raise RuntimeError(
                "each element in list of batch should be of equal size\nWhy: default_collate "
                f"pairs up the i-th fields of every sample, but the samples have {sizes} "
                "fields; return samples of one structure, or pass a collate_fn.")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, s in enumerate(transposed):
                    clone[i] = collate(s, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(s, collate_fn_map=collate_fn_map) for s in transposed])
        except TypeError:
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None) -> Tensor:
    """Stack tensors of one shape into a batch (``torch.stack(batch, 0)``)."""
    first = batch[0]
    shape = first._data.shape
    for i, t in enumerate(batch):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(t._data.shape)} at entry {i}\nWhy: default_collate stacks the "
                "samples of a batch into one tensor, so the dataset must return tensors of one "
                "shape; resize or pad them, or pass a collate_fn (or use batch_size=None).")
    if any(t._rg for t in batch):
        from ....methods.shape import stack

        return stack(list(batch), 0)  # recorded by autograd, as torch.stack is
    data = np.stack([t._data for t in batch])
    return _wrap(data)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Stack NumPy arrays into one tensor (arrays of strings/objects are refused)."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars into a tensor of their dtype."""
    return as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats into a float64 tensor."""
    return tensor(batch, dtype=_dt.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints (and bools) into an int64 (bool) tensor."""
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay a list."""
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Collate a list of samples into a batch, as ``torch.utils.data.default_collate``.

    >>> import leafgrad
    >>> default_collate([{"x": leafgrad.ones(2), "y": 0}, {"x": leafgrad.zeros(2), "y": 1}])
    {'x': tensor([[1., 1.],
            [0., 0.]]), 'y': tensor([0, 1])}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
