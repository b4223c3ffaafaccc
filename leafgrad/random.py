"""Random sampling that reproduces PyTorch's CPU generator: Generator, seeding and the samplers.

After ``leafgrad.manual_seed(s)`` and the same sequence of calls, every sampler here returns the
values ``torch`` returns on the CPU, bit for bit (docs/random.md lists the few exceptions). The
engine is PyTorch's: mt19937 seeded like ``torch.manual_seed``, 24-bit (float32, float16) or
53-bit (float64) uniforms, Box-Muller normals with the cached second sample, and the same state
layout, so ``get_rng_state()`` round-trips between the two libraries.
"""

from __future__ import annotations

import contextlib
import operator

import numpy as np

from . import _mt19937 as _k
from . import backend as _backend
from . import dtypes as _dt
from ._out import out_variant
from .autograd.grad_mode import state as _grad_state
from .autograd.node import Op
from .autograd.node import edge as _edge
from .autograd.node import make_node as _make_node
from .ops._apply import record as _record
from .ops.movement import strides as _strides
from .size import parse_size
from .tensor import Tensor, _wrap

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "fork_rng", "rand", "randn", "randint", "randperm", "normal", "bernoulli",
    "multinomial", "rand_like", "randn_like", "randint_like", "uniform_", "normal_", "random_",
    "bernoulli_", "exponential_",
]

_U64 = (1 << 64) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
# PyTorch's scalar type names, used in its error messages
_TORCH_NAME = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_C_NAME = {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int",
           "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
           "bool": "bool"}


# ---------------------------------------------------------------------------------------------
# Generators and seeding


def _seed_value(seed) -> int:
    """Validate a seed and map it to uint64 the way PyTorch does (negatives wrap around)."""
    if not isinstance(seed, (int, np.integer)):
        raise RuntimeError(
            f"manual_seed expected a long, but got {type(seed).__name__}; pass an integer seed, "
            "e.g. manual_seed(0)"
        )
    seed = int(seed)
    if not _INT64_MIN <= seed <= _U64:
        raise ValueError(
            f"manual_seed: seed {seed} is out of range; the seed must lie in "
            "[-0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff] (a 64-bit value)"
        )
    return seed & _U64


class Generator:
    """A random number generator with PyTorch's CPU generator state (mt19937).

    >>> g = Generator().manual_seed(42)
    >>> g.initial_seed(), rand(3, generator=g)
    (42, tensor([0.8823, 0.9150, 0.3829]))
    """

    __slots__ = ("_engine", "device")

    def __init__(self, device="cpu"):
        dev = _backend.as_device(device)
        if dev.type != "cpu":
            raise RuntimeError(
                f"leafgrad only has a CPU generator (got device={dev}); PyTorch's CUDA generator "
                "is Philox, which leafgrad does not reproduce. Create Generator('cpu'): CUDA "
                "tensors are drawn on the CPU and moved"
            )
        self._engine = _k.Engine()
        self.device = dev

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator and return it.

        >>> Generator().manual_seed(7).initial_seed()
        7
        """
        self._engine.manual_seed(_seed_value(seed))
        return self

    def seed(self) -> int:
        """Seed from the OS's entropy pool and return the seed used.

        >>> g = Generator(); g.seed() == g.initial_seed()
        True
        """
        s = _k.nondeterministic_seed()
        self._engine.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed the generator was last seeded with.

        >>> Generator().initial_seed()
        67280421310721
        """
        return self._engine.initial_seed

    def get_state(self) -> Tensor:
        """The state as a uint8 tensor of 5056 bytes, PyTorch's layout.

        >>> Generator().get_state().shape
        torch.Size([5056])
        """
        return _wrap(np.frombuffer(self._engine.get_state(), dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state from :meth:`get_state` (leafgrad's or ``torch``'s) and return self.

        >>> g = Generator(); s = g.get_state(); a = rand(2, generator=g)
        >>> rand(2, generator=g.set_state(s)).tolist() == a.tolist()
        True
        """
        self._engine.set_state(_state_bytes(new_state))
        return self

    def __reduce__(self):
        return (_generator_from_state, (str(self.device), self.get_state()._data.tobytes()))


def _generator_from_state(device: str, state: bytes) -> Generator:
    g = Generator(device)
    g._engine.set_state(state)
    return g


def _state_bytes(new_state) -> bytes:
    """The bytes of a state tensor: a leafgrad Tensor, a torch tensor or any uint8 array."""
    data = getattr(new_state, "_data", None)
    arr = _backend.to_numpy(data) if data is not None else np.asarray(new_state)
    if arr.dtype != np.uint8:
        raise TypeError(
            f"RNG state must be a torch.ByteTensor (uint8), got dtype {arr.dtype}; pass the "
            "tensor get_rng_state() / Generator.get_state() returned"
        )
    return np.ascontiguousarray(arr).tobytes()


default_generator = Generator()


def _engine(generator) -> _k.Engine:
    if generator is None:
        return default_generator._engine
    if isinstance(generator, Generator):
        return generator._engine
    raise TypeError(
        f"generator must be a leafgrad.Generator or None, got {type(generator).__name__}; "
        "create one with leafgrad.Generator().manual_seed(seed)"
    )


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (like ``torch.manual_seed``) and return it.

    >>> manual_seed(0).initial_seed()
    0
    """
    # torch.manual_seed calls int(seed) first, so 3.0 is accepted here (not by Generator's)
    return default_generator.manual_seed(int(seed))


def seed() -> int:
    """Seed the default generator non-deterministically and return the seed.

    >>> seed() == initial_seed()
    True
    """
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with.

    >>> _ = manual_seed(3); initial_seed()
    3
    """
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state as a uint8 tensor (PyTorch's 5056-byte layout).

    >>> get_rng_state().dtype
    torch.uint8
    """
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state (from leafgrad's or ``torch``'s get_rng_state).

    >>> s = get_rng_state(); a = rand(2); set_rng_state(s); rand(2).tolist() == a.tolist()
    True
    """
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None):
    """Context manager that restores the default generator's state on exit.

    >>> _ = manual_seed(0)
    >>> with fork_rng():
    ...     a = rand(3)
    >>> rand(3).tolist() == a.tolist()
    True
    """
    if not enabled:
        yield
        return
    state = default_generator._engine.get_state()
    try:
        yield
    finally:
        default_generator._engine.set_state(state)


# ---------------------------------------------------------------------------------------------
# Argument plumbing


def _floating(dtype, op: str) -> _dt.dtype:
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    if not d.is_floating_point:
        raise NotImplementedError(
            f"\"{op}\" not implemented for '{_TORCH_NAME[d.name]}'; this sampler draws "
            f"floating-point values, so pass a float dtype (e.g. dtype=leafgrad.float32)"
        )
    return d


def _new(shape: tuple, dt: _dt.dtype, arr: np.ndarray, device, requires_grad: bool) -> Tensor:
    if requires_grad and not dt.is_floating_point:
        raise RuntimeError(
            f"Only Tensors of floating point and complex dtype can require gradients, got {dt}; "
            "drop requires_grad=True or ask for a float dtype"
        )
    arr = arr.reshape(shape)
    dev = _backend.as_device(device)
    if dev.type != "cpu":
        arr = _backend.move(arr, dev)
    return _wrap(arr, requires_grad=requires_grad)


def _iter_order(a) -> tuple[int, ...] | None:
    """Axis order PyTorch's TensorIterator walks a strided array in (None: plain C order)."""
    if a.flags.c_contiguous:
        return None
    dims = [d for d in range(a.ndim) if a.shape[d] > 1]
    # NOTE: TensorIterator sorts dimensions by stride, so a transposed or permuted tensor is
    # filled in memory order, not in logical (row-major) order.
    dims.sort(key=lambda d: -abs(a.strides[d]))
    rest = [d for d in range(a.ndim) if a.shape[d] <= 1]
    return tuple(rest + dims)


def _write(t: Tensor, flat: np.ndarray) -> Tensor:
    """Store ``flat`` (values in draw order) into ``t`` in place, in PyTorch's order."""
    data = t._data
    order = _iter_order(data)
    if order is None:
        vals = flat.reshape(data.shape)
    else:
        permuted = flat.reshape([data.shape[d] for d in order])
        vals = np.transpose(permuted, np.argsort(order))
    if data.__class__ is np.ndarray:
        data[...] = vals
    else:
        data[...] = _backend.move(np.ascontiguousarray(vals), t.device)
    t._bump_version()
    return t


class _Sample(Op):
    """The node of a random sample: PyTorch treats samples as constants of their inputs, so the
    gradient to each input is zero (but the graph, and ``requires_grad``, go on through it)."""

    formula = {"x": "grad * 0"}
    save_inputs = False
    __slots__ = ()

    def backward(self, grad):
        return tuple(grad * 0 if fn is not None else None for fn, _ in self.next_functions)


def _sample_node(name: str) -> type:
    return type(name, (_Sample,), {"name_": name, "__slots__": (), "__qualname__": name})


_NODES = {n: _sample_node(n) for n in (
    "UniformBackward0", "NormalBackward0", "NormalBackward1", "NormalBackward2",
    "NormalBackward3", "RandomBackward0", "BernoulliBackward0", "BernoulliBackward1",
    "BernoulliBackward2", "ExponentialBackward0")}


def _rebase(t: Tensor, name: str, old_edge, extra: tuple = ()) -> None:
    """After an in-place fill of a non-leaf that requires grad, record the fill as its node."""
    if old_edge is None:
        return
    fn = _make_node(_NODES[name], (old_edge,) + tuple(
        _edge(e) if isinstance(e, Tensor) and e._rg else (None, 0) for e in extra))
    t.grad_fn = fn
    t._out_nr = 0


def _recorded(t: Tensor, name: str, old_edge, extra: tuple = ()) -> Tensor:
    _rebase(t, name, old_edge, extra)
    return t


def _old_edge(t: Tensor):
    """The edge to ``t``'s current history, if an in-place fill must be recorded on it."""
    if _grad_state.enabled and t._rg and t.grad_fn is not None:
        return (t.grad_fn, t._out_nr)
    return None


def _with_sample_node(out: Tensor, name: str, inputs: tuple) -> Tensor:
    """Attach a zero-gradient node to a fresh sample drawn from tensors that require grad."""
    if not (_grad_state.enabled and any(isinstance(i, Tensor) and i._rg for i in inputs)):
        return out
    return _record(object.__new__(_NODES[name]), inputs, out._data)


def _np_dtype(t: Tensor) -> np.dtype:
    return t._data.dtype


def _dtype_name(t: Tensor) -> str:
    return _TORCH_NAME[_np_dtype(t).name]


def _int(v, what: str, op: str) -> int:
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(
            f"{op}(): argument '{what}' must be int, not {type(v).__name__}; random integers "
            f"are drawn between integer bounds, e.g. {op}(0, 10, (3,))"
        ) from None


# ---------------------------------------------------------------------------------------------
# In-place samplers (Tensor methods forward here)


def uniform_(t: Tensor, from_: float = 0, to: float = 1, *, generator=None) -> Tensor:
    """Fill ``t`` with samples from U(from_, to), in place.

    >>> import leafgrad
    >>> _ = manual_seed(0); uniform_(leafgrad.empty(3), -1, 1)
    tensor([-0.0075,  0.5364, -0.8230])
    """
    t._check_inplace("uniform_")
    old = _old_edge(t)
    npd = _np_dtype(t)
    if npd.kind != "f":
        raise NotImplementedError(
            f"\"check_uniform_bounds\" not implemented for '{_dtype_name(t)}'; uniform_ fills "
            "floating-point tensors only (use random_ for integers)"
        )
    from_, to = float(from_), float(to)
    info = np.finfo(npd)
    lo, hi = float(info.min), float(info.max)
    tname = _C_NAME[npd.name]
    if not lo <= from_ <= hi:
        raise RuntimeError(f"from is out of bounds for {tname}: from={from_}")
    if not lo <= to <= hi:
        raise RuntimeError(f"to is out of bounds for {tname}: to={to}")
    if from_ > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={from_:g} > "
            f"to={to:g}; swap the bounds"
        )
    if to - from_ > hi:
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{_dtype_name(t)}>::max(), but "
            f"found to={to:g} and from={from_:g} which result in to-from to exceed the limit"
        )
    n = t.numel()
    if n == 0:
        return t
    filled = _write(t, _k.uniform(_engine(generator), n, npd, from_, to))
    return _recorded(filled, "UniformBackward0", old)


def normal_(t: Tensor, mean: float = 0, std: float = 1, *, generator=None) -> Tensor:
    """Fill ``t`` with samples from N(mean, std**2), in place.

    >>> import leafgrad
    >>> _ = manual_seed(0); normal_(leafgrad.empty(3), 10, 0.1)
    tensor([10.1541,  9.9707,  9.7821])
    """
    t._check_inplace("normal_")
    old = _old_edge(t)
    npd = _np_dtype(t)
    if npd.kind != "f":
        raise NotImplementedError(
            f"\"normal_kernel_cpu\" not implemented for '{_dtype_name(t)}'; normal_ fills "
            "floating-point tensors only"
        )
    mean, std = float(mean), float(std)
    if not std >= 0.0:
        raise RuntimeError(
            f"normal expects std >= 0.0, but found std {std:g}; std is a standard deviation"
        )
    n = t.numel()
    if n == 0:
        return t
    contiguous = bool(t._data.flags.c_contiguous)
    vals = _k.normal(_engine(generator), n, npd, mean, std, contiguous)
    filled = _write(t, vals)
    return _recorded(filled, "NormalBackward0", old)


def _through_dtype(v: int, npd) -> int:
    """``static_cast<int64_t>(static_cast<T>(v))`` for an int64 ``v``, as x86 computes it."""
    v = ((v + (1 << 63)) % (1 << 64)) - (1 << 63)  # int64 arithmetic wraps
    f = np.array(v, np.int64).astype(np.float32 if npd == np.float16 else npd)  # one rounding
    x = float(f.astype(npd))
    if not -(2.0**63) <= x < 2.0**63:
        return _INT64_MIN  # cvttsd2si's "integer indefinite" for out-of-range values
    return int(x)


def _update_from(frm: int, digits: int, npd) -> int:
    """PyTorch's ``update_from``: nudge ``from`` up to a value the float dtype can hold."""
    plus1 = _through_dtype(frm + 1, npd)
    if plus1 < frm:
        n = abs(frm + 1).bit_length() - 1
        frm = plus1 + (1 << (n - digits + 1))
    return frm


def _update_to(to: int, digits: int, npd) -> int:
    """PyTorch's ``update_to``: nudge ``to`` down to a value the float dtype can hold."""
    minus1 = _through_dtype(to - 1, npd)
    if minus1 >= to:
        n = abs(to - 1).bit_length() - 1
        to = minus1 - (1 << (n - digits + 1))
    return to


_DIGITS = {"float16": 11, "float32": 24, "float64": 53}


def _check_in_range(frm: int, to_inc: int, npd) -> None:
    if npd.kind == "f":
        lo, hi = float(np.finfo(npd).min), float(np.finfo(npd).max)
    elif npd == np.bool_:
        lo, hi = 0, 1
    else:
        lo, hi = int(np.iinfo(npd).min), int(np.iinfo(npd).max)
    tname = _C_NAME[npd.name]
    if not lo <= frm <= hi:
        raise RuntimeError(f"from is out of bounds for {tname}: from={frm} is outside [{lo}, {hi}]")
    if not lo <= to_inc <= hi:
        raise RuntimeError(
            f"to - 1 is out of bounds for {tname}: to - 1 = {to_inc} is outside [{lo}, {hi}]"
        )


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _Unset()


def random_(t: Tensor, from_=_UNSET, to=_UNSET, *, generator=None) -> Tensor:
    """Fill ``t`` with integers: ``random_()``, ``random_(to)`` or ``random_(from_, to)``.

    As in PyTorch, one bound means ``[0, to)`` and ``to=None`` means up to the dtype's largest
    integer (2**mantissa for floats); without bounds, ``[0, max]`` by PyTorch's own rule.

    >>> import leafgrad
    >>> _ = manual_seed(0); random_(leafgrad.empty(4, dtype=leafgrad.int64), 10)
    tensor([4, 9, 3, 0])
    """
    t._check_inplace("random_")
    old = _old_edge(t)
    npd = _np_dtype(t)
    if from_ is _UNSET and to is _UNSET:
        pass  # the unbounded kernel: uniform_int_distribution<T>
    elif to is _UNSET:
        from_, to = 0, from_  # random_(to)
    elif from_ is _UNSET:
        from_ = 0
    if from_ is _UNSET:
        n = t.numel()
        if n == 0:
            return t
        filled = _write(t, _k.random_default(_engine(generator), n, npd))
        return _recorded(filled, "RandomBackward0", old, ())
    frm = _int(from_, "from", "random_")
    if to is not None:
        to = _int(to, "to", "random_")
        if not frm < to:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={frm} >= to={to}"
            )
        if npd.kind == "f":
            digits = _DIGITS[npd.name]
            frm, to = _update_from(frm, digits, npd), _update_to(to, digits, npd)
            if not frm < to:
                raise RuntimeError(
                    "random_ expects 'from' casted to dtype to be less than 'to' casted to "
                    f"dtype, but got from={frm} >= to={to}"
                )
        _check_in_range(frm, to - 1, npd)
        range_ = (to - frm) & _U64
    elif frm != _INT64_MIN:
        if npd.kind == "f":
            to_inc = min(1 << _DIGITS[npd.name], _INT64_MAX)
            frm = _update_from(frm, _DIGITS[npd.name], npd)
            if not frm < to_inc:
                raise RuntimeError(
                    "random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                    f"casted to dtype, but got from={frm} > to_inc={to_inc}"
                )
        elif npd == np.bool_:
            to_inc = 1
        else:
            to_inc = int(np.iinfo(npd).max)
        _check_in_range(frm, to_inc, npd)
        range_ = (to_inc - frm + 1) & _U64
    else:
        if npd.name not in ("int64", "float64", "float32"):
            raise RuntimeError(
                "random_full_64_bits_range_kernel_cpu handles only int64, double, float and "
                f"bfloat16, got {npd.name}: random_(from=-2**63, to=None) needs a 64-bit range"
            )
        n = t.numel()
        if n == 0:
            return t
        filled = _write(t, _k.cast_int64(_k.random_full_range(_engine(generator), n), npd))
        return _recorded(filled, "RandomBackward0", old, ())
    n = t.numel()
    if n == 0:
        return t
    vals = _k.random_from_to(_engine(generator), n, range_, frm)
    filled = _write(t, _k.cast_int64(vals, npd))
    return _recorded(filled, "RandomBackward0", old, ())


def _check_p_tensor(p: np.ndarray, op: str) -> None:
    if p.size and not ((p >= 0) & (p <= 1)).all():
        bad = p[~((p >= 0) & (p <= 1))].ravel()[0]
        raise RuntimeError(
            f"{op}: Expected p_in >= 0 && p_in <= 1 to be true, but got false (found p={bad}); "
            "every probability must lie in [0, 1]"
        )


def bernoulli_(t: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill ``t`` with 0/1 draws that are 1 with probability ``p`` (a float or a tensor).

    >>> import leafgrad
    >>> _ = manual_seed(0); bernoulli_(leafgrad.empty(5), 0.5)
    tensor([0., 0., 1., 0., 0.])
    """
    t._check_inplace("bernoulli_")
    old = _old_edge(t)
    n = t.numel()
    if isinstance(p, Tensor):
        pa = _backend.to_numpy(p._data)
        if pa.dtype.kind != "f":
            raise NotImplementedError(
                f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_TORCH_NAME[pa.dtype.name]}'"
                "; probabilities must be a floating-point tensor"
            )
        try:
            pa = np.broadcast_to(pa, t.shape)
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor ({list(pa.shape)}) must match the existing "
                f"size of the tensor being filled ({list(t.shape)}); p must broadcast to it"
            ) from None
        if n == 0:
            return t
        _check_p_tensor(pa, "bernoulli_")
        order = _iter_order(t._data)
        if order is not None:  # draws follow the output's memory order
            pa = np.transpose(pa, order)
        draws = _k.bernoulli_tensor(_engine(generator), np.ascontiguousarray(pa))
    else:
        p = float(p)
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        if n == 0:
            return t
        draws = _k.bernoulli_scalar(_engine(generator), n, p)
    filled = _write(t, draws.astype(_np_dtype(t)))
    if isinstance(p, Tensor):
        return _recorded(filled, "BernoulliBackward1", old, (p,))
    return _recorded(filled, "BernoulliBackward2", old)


def exponential_(t: Tensor, lambd: float = 1, *, generator=None) -> Tensor:
    """Fill ``t`` with samples from Exp(lambd) (density lambd * exp(-lambd x)), in place.

    >>> import leafgrad
    >>> _ = manual_seed(0); exponential_(leafgrad.empty(3), 2.0)
    tensor([1.7542, 0.6152, 0.3075])
    """
    t._check_inplace("exponential_")
    old = _old_edge(t)
    npd = _np_dtype(t)
    lambd = float(lambd)
    if not lambd > 0.0:
        raise RuntimeError(
            f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}; lambd is a rate"
        )
    if npd.kind != "f":
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {_dtype_name(t)}"
        )
    n = t.numel()
    if n == 0:
        return t
    filled = _write(t, _k.exponential(_engine(generator), n, npd, lambd))
    return _recorded(filled, "ExponentialBackward0", old)


# ---------------------------------------------------------------------------------------------
# Factories


def _empty(shape, dt: _dt.dtype) -> Tensor:
    return _wrap(np.empty(shape, dt.np))


_is_dense = _strides.is_dense  # is_non_overlapping_and_dense (dropout's noise reads it)


def _empty_like(a, dt: _dt.dtype, memory_format=None) -> Tensor:
    """``empty_like(a)`` (on the host): preserve_format by default, that is ``a``'s strides
    when ``a`` is non-overlapping and dense, else ``infer_dense_strides`` (its dims ordered by
    stride, a stride-0 dim left where it is: an expanded ``x.T`` stays column-major)."""
    # NOTE: the *_like samplers then fill in that memory order, as PyTorch does, so
    # rand_like(x.t()) differs from rand_like(x.t().contiguous()) element for element.
    return _wrap(_strides.empty_in(a.shape, _strides.like_perm(a, memory_format), dt.np, np))


def _finish(t: Tensor, device, requires_grad: bool) -> Tensor:
    return _new(t.shape, t.dtype, t._data, device, requires_grad)


@out_variant(rule="dtype", resize_warns=False)
def rand(*size, generator=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Samples from U(0, 1) of the given shape.

    >>> _ = manual_seed(0); rand(2, 2)
    tensor([[0.4963, 0.7682],
            [0.0885, 0.1320]])
    """
    shape = parse_size(size)
    dt = _floating(dtype, "check_uniform_bounds")
    t = uniform_(_empty(shape, dt), generator=generator)
    return _finish(t, device, requires_grad)


@out_variant(rule="dtype", resize_warns=False)
def randn(*size, generator=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Samples from N(0, 1) of the given shape.

    >>> _ = manual_seed(0); randn(3)
    tensor([ 1.5410, -0.2934, -2.1788])
    """
    shape = parse_size(size)
    dt = _floating(dtype, "normal_kernel_cpu")
    t = normal_(_empty(shape, dt), generator=generator)
    return _finish(t, device, requires_grad)




@out_variant(rule="dtype", resize_warns=False)
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, layout=None,
            device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``(low, high, size)``.

    >>> _ = manual_seed(0); randint(10, (5,))
    tensor([4, 9, 3, 0, 3])
    """
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # randint(high, size)
    if size is None:
        raise TypeError(
            "randint() missing required argument 'size'; call randint(high, size) or "
            "randint(low, high, size), e.g. randint(10, (3,))"
        )
    if high is None:
        low, high = 0, low
    low, high = _int(low, "low", "randint"), _int(high, "high", "randint")
    dt = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    t = random_(_empty(parse_size((size,)), dt), low, high, generator=generator)
    return _finish(t, device, requires_grad)


@out_variant(rule="dtype", resize_warns=False)
def randperm(n: int, *, generator=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1``.

    >>> _ = manual_seed(0); randperm(6)
    tensor([2, 5, 3, 0, 1, 4])
    """
    n = _int(n, "n", "randperm")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    npd = dt.np
    if npd == np.bool_:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if npd.kind == "f":
        digits = _DIGITS[npd.name]
        if n > (1 << digits) + 1:
            raise RuntimeError(
                f"n cannot be greater than 2^{digits}+1 for {_TORCH_NAME[npd.name]} type: the "
                "dtype cannot represent every index; use an integer dtype"
            )
    elif n > int(np.iinfo(npd).max):
        raise RuntimeError(
            f"value cannot be converted to type {npd.name}_t without overflow: randperm({n}) "
            f"needs values up to {n - 1}; use a wider dtype such as int64"
        )
    vals = _k.randperm(_engine(generator), n)
    return _finish(_wrap(_k.cast_int64(vals, npd)), device, requires_grad)


def _floating_like(input: Tensor, dtype, op: str) -> _dt.dtype:  # noqa: A002
    return _floating(input.dtype if dtype is None else dtype, op)


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None,  # noqa: A002
              device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """U(0, 1) samples with ``input``'s shape (and dtype and device unless given).

    >>> import leafgrad
    >>> _ = manual_seed(0); rand_like(leafgrad.zeros(2, dtype=leafgrad.float64))
    tensor([0.9701, 0.7078], dtype=torch.float64)
    """
    dt = _floating_like(input, dtype, "check_uniform_bounds")
    t = uniform_(_empty_like(input._data, dt, memory_format), generator=generator)
    return _finish(t, input.device if device is None else device, requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None,  # noqa: A002
               device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """N(0, 1) samples with ``input``'s shape (and dtype and device unless given).

    >>> import leafgrad
    >>> _ = manual_seed(0); randn_like(leafgrad.zeros(2))
    tensor([ 1.5410, -0.2934])
    """
    dt = _floating_like(input, dtype, "normal_kernel_cpu")
    t = normal_(_empty_like(input._data, dt, memory_format), generator=generator)
    return _finish(t, input.device if device is None else device, requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None,  # noqa: A002
                 layout=None, device=None, requires_grad: bool = False,
                 memory_format=None) -> Tensor:
    """Integers from [low, high) shaped like ``input``: ``(input, high)`` or ``(input, low, high)``.

    >>> import leafgrad
    >>> _ = manual_seed(0); randint_like(leafgrad.zeros(3, dtype=leafgrad.int64), 10)
    tensor([4, 9, 3])
    """
    if high is None:
        low, high = 0, low
    low, high = _int(low, "low", "randint_like"), _int(high, "high", "randint_like")
    dt = input.dtype if dtype is None else _dt.as_dtype(dtype)
    t = random_(_empty_like(input._data, dt, memory_format), low, high, generator=generator)
    return _finish(t, input.device if device is None else device, requires_grad)


def _cpu_array(t: Tensor) -> np.ndarray:
    return _backend.to_numpy(t._data)


@out_variant(error=NotImplementedError, alias="refuse")
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, layout=None,
           device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Normal samples with tensor or float ``mean``/``std``; with two floats, give ``size``.

    >>> import leafgrad
    >>> _ = manual_seed(0); normal(leafgrad.tensor([0.0, 10.0, 100.0]), 1.0)
    tensor([ 1.5410,  9.7066, 97.8212])
    """
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        if size is None:
            raise TypeError(
                "normal() with a float mean and a float std needs a size, e.g. "
                "normal(0.0, 1.0, size=(3,)); or pass mean or std as a tensor"
            )
        dt = _floating(dtype, "normal_kernel_cpu")
        t = normal_(_empty(parse_size((size,)), dt), mean, std, generator=generator)
        return _finish(t, device, requires_grad)
    if std_t:
        sa = _cpu_array(std)
        if sa.size and not (sa >= 0).all():
            raise RuntimeError(
                "normal expects all elements of std >= 0.0; std holds standard deviations"
            )
    if mean_t and not std_t:
        # NOTE: PyTorch draws N(0, std) in mean's dtype, then adds mean in place.
        std = float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        ma = _cpu_array(mean)
        drawn = normal_(_empty(ma.shape, _dt.from_np(ma.dtype)), 0.0, std, generator=generator)
        res = drawn._data + ma
    elif std_t and not mean_t:
        sa = _cpu_array(std)
        drawn = normal_(_empty(sa.shape, _dt.from_np(sa.dtype)), generator=generator)
        # output.mul_(std).add_(mean as a 0-d tensor of the output dtype)
        res = drawn._data * sa + sa.dtype.type(mean)
    else:
        ma, sa = _cpu_array(mean), _cpu_array(std)
        try:
            shape = np.broadcast_shapes(ma.shape, sa.shape)
        except ValueError:
            raise RuntimeError(
                f"The size of tensor a ({ma.shape}) must match the size of tensor b ({sa.shape}) "
                "at a non-singleton dimension: mean and std must broadcast"
            ) from None
        drawn = normal_(_empty(shape, _dt.from_np(ma.dtype)), generator=generator)
        # NOTE: PyTorch computes output.mul_(std).add_(mean): two roundings, each in the
        # promoted dtype and cast back to mean's dtype.
        res = _inplace_op(drawn._data, sa, np.multiply)
        res = _inplace_op(res, ma, np.add)
    # (np.asarray keeps a 0-d result 0-d; ascontiguousarray would make it shape (1,))
    res = np.asarray(res, dtype=drawn._data.dtype, order="C")
    dev = (mean if mean_t else std).device if device is None else device
    node = "NormalBackward3" if mean_t and std_t else (
        "NormalBackward1" if mean_t else "NormalBackward2")
    inputs = tuple(v for v in (mean, std) if isinstance(v, Tensor))
    return _with_sample_node(_finish(_wrap(res), dev, requires_grad), node, inputs)


def _inplace_op(a: np.ndarray, b: np.ndarray, op) -> np.ndarray:
    """``a.op_(b)`` as PyTorch computes it: in the promoted dtype, then cast back to a's."""
    common = _dt.promote_types(_dt.from_np(a.dtype), _dt.from_np(b.dtype)).np
    return op(a.astype(common, copy=False), b.astype(common, copy=False)).astype(a.dtype)


@out_variant(rule="any", resize_warns=False)
def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:  # noqa: A002
    """0/1 draws, 1 with probability ``input`` (elementwise) or with the float ``p``.

    >>> import leafgrad
    >>> _ = manual_seed(0); bernoulli(leafgrad.tensor([0.0, 0.5, 1.0, 0.5]))
    tensor([0., 0., 1., 1.])
    """
    out = _wrap(np.empty(input.shape, _np_dtype(input)))
    if p is None:
        if _np_dtype(input).kind != "f":
            raise NotImplementedError(
                f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_dtype_name(input)}'; "
                "bernoulli(input) reads probabilities from input, so it must be floating point"
            )
        pa = _cpu_array(input)
        _check_p_tensor(pa, "bernoulli")
        draws = _k.bernoulli_tensor(_engine(generator), np.ascontiguousarray(pa))
        _write(out, draws.astype(pa.dtype))
    else:
        bernoulli_(out, p, generator=generator)
        return _finish(out, input.device, False)  # NOTE: PyTorch has no gradient formula here
    return _with_sample_node(_finish(out, input.device, False), "BernoulliBackward0", (input,))


@out_variant(rule="exact", resize_warns=False)
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator=None) -> Tensor:
    """Sample category indices from each row of (unnormalised) probabilities ``input``.

    >>> import leafgrad
    >>> _ = manual_seed(0); multinomial(leafgrad.tensor([0.1, 0.0, 0.9]), 4, replacement=True)
    tensor([2, 2, 2, 2])
    """
    n_sample = _int(num_samples, "num_samples", "multinomial")
    pa = _cpu_array(input)
    if pa.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: "
            f"{_dtype_name(input)}; convert the weights with .float()"
        )
    if pa.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got a {pa.ndim}-dim tensor")
    if n_sample <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (got {n_sample})")
    n_cat = pa.shape[-1]
    if not replacement and n_sample > n_cat:
        raise RuntimeError(
            f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"(n_sample={n_sample}, {n_cat} categories); pass replacement=True"
        )
    if n_cat > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    p2 = pa.reshape(-1, n_cat)
    if p2.shape[0] and n_cat:
        fast = not replacement or n_sample == 1
        if fast and not (np.isfinite(p2).all() and (p2 >= 0).all()):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if not fast and (p2 < 0).any():
            raise RuntimeError(
                "invalid multinomial distribution (encountering probability entry < 0)")
        if not fast and not np.isfinite(p2).all():
            raise RuntimeError(
                "invalid multinomial distribution (encountering probability entry = infinity "
                "or NaN)")
        sums = p2.sum(axis=1)
        if (sums <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    order = _iter_order(pa) if pa.ndim == 2 and _strides.is_dense(pa) else None
    out = _k.multinomial(_engine(generator), p2, n_sample, replacement, order)
    shape = (n_sample,) if pa.ndim == 1 else (pa.shape[0], n_sample)
    return _new(shape, _dt.int64, out, input.device, False)


# ---------------------------------------------------------------------------------------------
# Array-level draws for code that lives below Tensor (dropout masks, nn.init, DataLoader).


def uniform_array(shape, dtype=np.float32, low: float = 0.0, high: float = 1.0,
                  generator=None) -> np.ndarray:
    """A NumPy array of U(low, high) draws: exactly what ``uniform_`` writes into a tensor.

    >>> _ = manual_seed(0); uniform_array((2,))
    array([0.4962566, 0.7682218], dtype=float32)
    """
    shape = parse_size((shape,))
    n = int(np.prod(shape))
    return _k.uniform(_engine(generator), n, np.dtype(dtype), low, high).reshape(shape)


def bernoulli_mask(shape, p: float, generator=None) -> np.ndarray:
    """A boolean NumPy array, True with probability ``p``: the stream of ``bernoulli_(p)``.

    PyTorch's CPU dropout keeps ``empty_like(x).bernoulli_(1 - p)``, so a dropout mask is
    ``bernoulli_mask(x.shape, 1 - p)``.

    >>> _ = manual_seed(0); bernoulli_mask((4,), 0.5)
    array([False, False,  True, False])
    """
    shape = parse_size((shape,))
    n = int(np.prod(shape))
    return _k.bernoulli_scalar(_engine(generator), n, float(p)).reshape(shape)
