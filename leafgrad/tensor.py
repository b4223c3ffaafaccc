"""The Tensor facade: an array plus autograd state, with PyTorch's attributes and methods."""

from __future__ import annotations

import operator
import warnings

import numpy as np

from . import backend as _backend
from . import dtypes as _dt
from .autograd import engine as _engine
from .autograd.grad_mode import state as _grad_state
from .autograd.node import EPOCH as _EPOCH
from .autograd.node import RemovableHandle
from .dtypes import FROM_NP
from .size import Size, parse_size

_new = object.__new__
_ndarray = np.ndarray
_generic = np.generic
_asarray = np.asarray


class VersionCounter:
    """How many in-place changes a tensor's memory has seen; shared by a base and its views."""

    __slots__ = ("v",)

    def __init__(self) -> None:
        self.v = 0


class TensorExtras:
    """Rarely-used per-tensor state, allocated on first use to keep tensor creation cheap."""

    __slots__ = ("base", "hooks", "post_hooks", "retains_grad", "accum", "name")

    def __init__(self) -> None:
        self.base = None            # the tensor this one is a view of
        self.hooks: list = []       # register_hook on a leaf (run by AccumulateGrad)
        self.post_hooks: list = []  # register_post_accumulate_grad_hook
        self.retains_grad = False
        self.accum = None           # weakref to this leaf's AccumulateGrad node
        self.name = None


def _wrap(data, requires_grad: bool = False, grad_fn=None) -> Tensor:
    """Make a Tensor around an array without copying (the hot constructor every op uses)."""
    if data.__class__ is not _ndarray and isinstance(data, _generic):
        data = _asarray(data)  # NumPy reductions of 0-d inputs return scalars; keep arrays
    t = _new(Tensor)
    t._data = data
    t._rg = requires_grad
    t.grad_fn = grad_fn
    t._out_nr = 0
    t._grad = None
    t._vc = None
    t._x = None
    return t


class Tensor:
    """A multi-dimensional array that can record the operations applied to it for autograd.

    >>> import leafgrad
    >>> x = leafgrad.tensor([[1.0, 0.0], [-1.0, 1.0]], requires_grad=True)
    >>> z = x.pow(2).sum(); z.backward(); x.grad
    tensor([[ 2.,  0.],
            [-2.,  2.]])
    """

    __slots__ = ("_data", "_rg", "grad_fn", "_out_nr", "_grad", "_vc", "_x", "__weakref__")
    __array_priority__ = 1000  # make NumPy defer to Tensor's reflected operators

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False) -> None:
        # torch.Tensor(2, 3) makes an uninitialised float tensor; torch.Tensor([1, 2]) a float copy
        if len(args) == 1 and not isinstance(args[0], int):
            src = args[0]
            data = np.array(src._data if isinstance(src, Tensor) else src,
                            dtype=(dtype or _dt.get_default_dtype()).np)
        else:
            data = np.zeros(parse_size(args), dtype=(dtype or _dt.get_default_dtype()).np)
        data = _backend.move(data, _backend.as_device(device))
        self._data = data
        self._rg = False
        self.grad_fn = None
        self._out_nr = 0
        self._grad = None
        self._vc = None
        self._x = None
        if requires_grad:
            self.requires_grad_()

    # -- private helpers -------------------------------------------------------------------
    def _extras(self) -> TensorExtras:
        x = self._x
        if x is None:
            x = self._x = TensorExtras()
        return x

    def _bump_version(self) -> None:
        vc = self._vc
        if vc is None:
            vc = self._vc = VersionCounter()
        vc.v += 1
        _EPOCH.v += 1

    def _check_inplace(self, op: str) -> None:
        """Raise PyTorch's error for an in-place op that autograd could not track."""
        if not _grad_state.enabled:
            return
        if self._rg and self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation.\n"
                f"Why: {op} would overwrite a leaf whose gradient autograd must accumulate; "
                "update parameters inside `with torch.no_grad():`, or use the out-of-place op."
            )
        base = self._x.base if self._x is not None else None
        if base is not None and (base._rg or self._rg):
            raise RuntimeError(
                f"{op}: in-place modification of a view of a tensor that requires grad is not "
                "supported yet by leafgrad (PyTorch rewrites the base's history with CopySlices). "
                "Clone the view first (v = v.clone()) or use the out-of-place op."
            )

    def _inplace_from(self, result: Tensor, op: str) -> Tensor:
        """Make ``self`` hold ``result`` (an out-of-place op's output) and take over its history."""
        self._check_inplace(op)
        res = result._data
        if res.dtype != self._data.dtype:
            if not _dt.can_cast(FROM_NP[res.dtype], self.dtype):
                raise RuntimeError(
                    f"result type {FROM_NP[res.dtype].name.capitalize()} can't be cast to the "
                    f"desired output type {self.dtype.name.capitalize()}\n"
                    f"Why: {op} writes into the existing {self.dtype} tensor, and that would "
                    "silently drop information; use the out-of-place op to get a new tensor."
                )
        if res.shape != self._data.shape:
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                f"{list(res.shape)}\nWhy: an in-place op ({op}) cannot change the tensor's shape; "
                "use the out-of-place op instead."
            )
        fn = result.grad_fn
        if fn is not None and fn.inputs is not None and any(i is self for i in fn.inputs):
            # The node needs self's value from before this op: keep a copy (PyTorch's
            # original_self), so the overwrite below does not corrupt the derivative.
            orig = _wrap(self._data.copy(), self._rg, self.grad_fn)
            orig._out_nr = self._out_nr
            fn.inputs = tuple(orig if i is self else i for i in fn.inputs)
            if fn._vers.__class__ is tuple:
                fn._vers = tuple(0 if i is orig else v for i, v in zip(fn.inputs, fn._vers))
        if self._data.ndim:
            self._data[...] = res
        else:
            self._data[()] = res
        if fn is not None:
            self.grad_fn = fn
            self._out_nr = 0
            self._rg = True
        self._bump_version()
        return self

    # -- autograd state --------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether autograd records operations on this tensor."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf and return it.

        >>> import leafgrad
        >>> leafgrad.ones(2).requires_grad_().requires_grad
        True
        """
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().\nWhy: a computed tensor requires grad because "
                "something it came from does; only leaves decide."
            )
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients\n"
                f"Why: a {self.dtype} tensor takes whole values only, so an infinitesimal change "
                "has no meaning; convert it first, e.g. x.float().requires_grad_()."
            )
        self._rg = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created, or not requiring grad)."""
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward()`` (leaves and ``retain_grad()`` tensors)."""
        g = self._grad
        if g is None and self.grad_fn is not None and not self.retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you "
                "access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for "
                "more informations.",
                UserWarning, stacklevel=2,
            )
        return g

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    "assigned grad has data of a different size: the gradient of a tensor has "
                    f"its shape ({list(self._data.shape)}), got {list(value._data.shape)}"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward.

        >>> import leafgrad
        >>> x = leafgrad.ones(2, requires_grad=True); y = x * 3; y.retain_grad()
        >>> y.sum().backward(); y.grad
        tensor([1., 1.])
        """
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return  # leaves keep their grad anyway
        import weakref

        self._extras().retains_grad = True
        self.grad_fn._extras().retained[self._out_nr] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        return self._x is not None and self._x.retains_grad

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        >>> import leafgrad
        >>> x = leafgrad.ones(2, requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 2)
        >>> x.sum().backward(); x.grad
        tensor([2., 2.])
        """
        if not self._rg:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        if self.grad_fn is None:
            hooks = self._extras().hooks
        else:
            hooks = self.grad_fn._extras().tensor_hooks.setdefault(self._out_nr, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
        """Call ``hook(tensor)`` after a leaf's ``.grad`` has been updated by backward."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        hooks = self._extras().post_hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Compute the gradient of this tensor w.r.t. graph leaves and accumulate it in ``.grad``.

        >>> import leafgrad
        >>> x = leafgrad.tensor(2.0, requires_grad=True)
        >>> (x * x).backward(); x.grad
        tensor(4.)
        """
        _engine.backward(self, None if gradient is None else (gradient,), retain_graph,
                         create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this one's memory, cut off from the graph.

        >>> import leafgrad
        >>> leafgrad.ones(1, requires_grad=True).detach().requires_grad
        False
        """
        t = _wrap(self._data)
        t._vc = self._shared_vc()  # in-place changes through the detached tensor stay visible
        return t

    def detach_(self) -> Tensor:
        """Detach this tensor from the graph in place (it becomes a leaf)."""
        if self._x is not None and self._x.base is not None and self._x.base._rg:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."  # noqa: E501
            )
        self.grad_fn = None
        self._rg = False
        self._out_nr = 0
        return self

    def _shared_vc(self) -> VersionCounter:
        vc = self._vc
        if vc is None:
            vc = self._vc = VersionCounter()
        return vc

    @property
    def data(self) -> Tensor:
        """This tensor's values as a tensor outside autograd's view (changes are not tracked)."""
        return _wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data

    @property
    def _version(self) -> int:
        vc = self._vc
        return 0 if vc is None else vc.v

    @property
    def _base(self) -> Tensor | None:
        return None if self._x is None else self._x.base

    def _is_view(self) -> bool:
        return self._base is not None

    @property
    def name(self) -> str | None:
        return None if self._x is None else self._x.name

    # -- metadata --------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The size of each dimension, as a ``torch.Size``."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the size of one dimension.

        >>> import leafgrad
        >>> leafgrad.zeros(2, 3).size(), leafgrad.zeros(2, 3).size(-1)
        (torch.Size([2, 3]), 3)
        """
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements.

        >>> import leafgrad
        >>> leafgrad.zeros(2, 3).numel()
        6
        """
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> _dt.dtype:
        """The element type."""
        return FROM_NP[self._data.dtype]

    @property
    def device(self) -> _backend.device:
        """The device the memory lives on."""
        if self._data.__class__ is _ndarray:
            return _backend.CPU
        return _backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point type."""
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim: int | None = None):
        """Strides in elements (not bytes), as PyTorch reports them."""
        item = self._data.itemsize
        st = tuple(s // item for s in self._data.strides)
        # NOTE: PyTorch reports stride 1 for dims of size 1 in contiguous tensors the way NumPy
        # reports the C-order stride; sizes of 0/1 make strides arbitrary, so use the C strides.
        if self._data.flags.c_contiguous:
            st = _contiguous_strides(self._data.shape)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements are laid out in C order without gaps."""
        return bool(self._data.flags.c_contiguous)

    def contiguous(self, memory_format=None) -> Tensor:
        """This tensor if C-contiguous, else a contiguous copy (recorded as CloneBackward0)."""
        if self._data.flags.c_contiguous:
            return self
        return self.clone()

    # -- conversion ------------------------------------------------------------------------
    def item(self):
        """The single value of a one-element tensor as a Python number.

        >>> import leafgrad
        >>> leafgrad.tensor([2.5]).item()
        2.5
        """
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar\n"
                "Why: item() returns one Python number; index or reduce the tensor first "
                "(e.g. t.sum().item(), t[0].item()), or use t.tolist() for all values."
            )
        return self._data.reshape(()).item() if self._data.ndim else self._data.item()

    def tolist(self):
        """The values as (nested) Python lists.

        >>> import leafgrad
        >>> leafgrad.tensor([[1, 2]]).tolist()
        [[1, 2]]
        """
        return _backend.to_numpy(self._data).tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A NumPy array sharing this tensor's memory (CPU tensors that don't require grad).

        >>> import leafgrad
        >>> leafgrad.ones(2).numpy()
        array([1., 1.], dtype=float32)
        """
        if force:
            return _backend.to_numpy(self._data).copy() if self.device.type == "cuda" else (
                self._data)
        if self._rg:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.\nWhy: the array would share memory with a tensor in the autograd graph, "
                "and changes made through NumPy would bypass autograd's checks."
            )
        if self.device.type != "cpu":
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._rg:
            # NOTE: PyTorch raises here too; np.asarray(t) of a grad-requiring tensor is refused
            return self.numpy()
        a = _backend.to_numpy(self._data)
        return a if dtype is None else a.astype(dtype)

    def to(self, *args, **kwargs) -> Tensor:
        """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(other)``...

        >>> import leafgrad
        >>> leafgrad.ones(1).to(leafgrad.float64).dtype
        torch.float64
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, _dt.dtype):
                dtype = a
            elif isinstance(a, (str, _backend.device, int)):
                device = a
            elif a is None:
                pass
            elif isinstance(a, bool):
                pass  # non_blocking given positionally
            else:
                dtype = _dt.as_dtype(a)
        t = self
        if device is not None:
            dev = _backend.as_device(device)
            if dev != t.device:
                t = ToDevice.apply_to(t, dev)
                copy = False
        if dtype is not None and _dt.as_dtype(dtype) is not t.dtype:
            t = ToCopy.apply_to(t, _dt.as_dtype(dtype))
            copy = False
        if copy and t is self:
            t = self.clone()
        return t

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """With no argument, the type name (``'torch.FloatTensor'``); otherwise a cast."""
        if dtype is None:
            from .autograd.node import _type_name

            return "torch." + _type_name(self)
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            names = {"FloatTensor": _dt.float32, "DoubleTensor": _dt.float64,
                     "HalfTensor": _dt.float16, "LongTensor": _dt.int64, "IntTensor": _dt.int32,
                     "ShortTensor": _dt.int16, "CharTensor": _dt.int8, "ByteTensor": _dt.uint8,
                     "BoolTensor": _dt.bool}
            dtype = names[dtype.rsplit(".", 1)[-1]]
        return self.to(_dt.as_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        """Cast to ``other``'s dtype."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """Cast to float32."""
        return self.to(_dt.float32)

    def double(self) -> Tensor:
        """Cast to float64."""
        return self.to(_dt.float64)

    def half(self) -> Tensor:
        """Cast to float16."""
        return self.to(_dt.float16)

    def long(self) -> Tensor:
        """Cast to int64."""
        return self.to(_dt.int64)

    def int(self) -> Tensor:
        """Cast to int32."""
        return self.to(_dt.int32)

    def short(self) -> Tensor:
        """Cast to int16."""
        return self.to(_dt.int16)

    def char(self) -> Tensor:
        """Cast to int8."""
        return self.to(_dt.int8)

    def byte(self) -> Tensor:
        """Cast to uint8."""
        return self.to(_dt.uint8)

    def bool(self) -> Tensor:
        """Cast to bool."""
        return self.to(_dt.bool)

    def cpu(self) -> Tensor:
        """Move to the CPU (no copy when already there)."""
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        """Move to a CUDA device (needs CuPy)."""
        return self.to(_backend.device("cuda", 0 if device is None else int(
            _backend.as_device(device).index or 0) if not isinstance(device, int) else device))

    def clone(self, *, memory_format=None) -> Tensor:
        """A copy with its own memory, recorded in the graph (CloneBackward0).

        >>> import leafgrad
        >>> x = leafgrad.ones(2, requires_grad=True); x.clone().grad_fn.name()
        'CloneBackward0'
        """
        return _unary(Clone, self)

    # -- new_* -----------------------------------------------------------------------------
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """A new tensor from data, with this tensor's dtype and device by default."""
        from .creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """Zeros of the given size, with this tensor's dtype and device by default."""
        from .creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """Ones of the given size, with this tensor's dtype and device by default."""
        from .creation import ones

        return ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """An uninitialised tensor, with this tensor's dtype and device by default."""
        from .creation import empty

        return empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None,
                 requires_grad: bool = False) -> Tensor:
        """A tensor filled with a value, with this tensor's dtype and device by default."""
        from .creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    # -- in-place fills (no graph) ---------------------------------------------------------
    def fill_(self, value) -> Tensor:
        """Fill with a value in place."""
        if isinstance(value, Tensor):
            value = value.item()
        self._check_inplace("fill_")
        if self._rg and _grad_state.enabled:
            return self._inplace_from(self * 0 + value, "fill_")
        self._data.fill(value)
        self._bump_version()
        return self

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return self.fill_(0)

    def copy_(self, src: Tensor, non_blocking: bool = False) -> Tensor:
        """Copy ``src``'s values into this tensor in place (broadcasting ``src``)."""
        src_t = src if isinstance(src, Tensor) else _wrap(np.asarray(src))
        if src_t._rg and _grad_state.enabled or (self._rg and _grad_state.enabled):
            moved = _movement.expand_to(src_t.to(self.dtype), self._data.shape)
            return self._inplace_from(moved * 1 if moved is src_t else moved, "copy_")
        self._data[...] = _backend.move(src_t._data, self.device)
        self._bump_version()
        return self

    # -- random in-place samplers (leafgrad.random) ----------------------------------------
    def uniform_(self, from_: float = 0, to: float = 1, *, generator=None) -> Tensor:
        """Fill with samples from U(from_, to), as PyTorch's generator would."""
        from . import random as _random

        return _random.uniform_(self, from_, to, generator=generator)

    def normal_(self, mean: float = 0, std: float = 1, *, generator=None) -> Tensor:
        """Fill with samples from N(mean, std^2)."""
        from . import random as _random

        return _random.normal_(self, mean, std, generator=generator)

    def random_(self, *args, generator=None) -> Tensor:
        """Fill with integers: ``random_()``, ``random_(to)`` or ``random_(from_, to)``."""
        from . import random as _random

        return _random.random_(self, *args, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
        """Fill with 0/1 draws with probability ``p``."""
        from . import random as _random

        return _random.bernoulli_(self, p, generator=generator)

    def exponential_(self, lambd: float = 1, *, generator=None) -> Tensor:
        """Fill with samples from an exponential distribution."""
        from . import random as _random

        return _random.exponential_(self, lambd, generator=generator)

    def bernoulli(self, p=None, *, generator=None) -> Tensor:
        """0/1 draws with this tensor's values (or ``p``) as probabilities."""
        from . import random as _random

        return _random.bernoulli(self, p, generator=generator)

    # -- Python protocol -------------------------------------------------------------------
    def __repr__(self, *, tensor_contents=None) -> str:
        return _tensor_str.tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous\nWhy: the tensor "
                f"has {self._data.size} elements; use .any() or .all() to say which you mean."
            )
        return bool(self._data.reshape(()) if self._data.ndim else self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError(
                "only integer tensors of a single element can be converted to an index"
            )
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                "be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        t = _wrap(self._data.copy(), self._rg)
        if self._grad is not None:
            t._grad = _wrap(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # -- arithmetic ------------------------------------------------------------------------
    def add(self, other, *, alpha=1) -> Tensor:
        """``self + alpha * other``, broadcasting.

        >>> import leafgrad
        >>> leafgrad.tensor([1, 2]).add(1, alpha=2)
        tensor([3, 4])
        """
        if alpha != 1:
            return _add_alpha(_AddAlpha, self, other, alpha)
        return _binary(Add, self, other)

    def sub(self, other, *, alpha=1) -> Tensor:
        """``self - alpha * other``, broadcasting."""
        if alpha != 1:
            return _add_alpha(_SubAlpha, self, other, alpha)
        return _binary(Sub, self, other)

    subtract = sub

    def mul(self, other) -> Tensor:
        """Elementwise product, broadcasting."""
        return _binary(Mul, self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None) -> Tensor:
        """Elementwise true division (``rounding_mode`` comes with the full op surface)."""
        if rounding_mode is not None:
            raise NotImplementedError(
                "div(rounding_mode=...) is part of the full op surface, not implemented yet; "
                "use (a / b).floor() or .trunc() for now"
            )
        return _binary(Div, self, other)

    divide = true_divide = div

    def neg(self) -> Tensor:
        """``-self``."""
        return _unary(Neg, self)

    negative = neg

    def pow(self, exponent) -> Tensor:
        """``self ** exponent`` with a scalar or tensor exponent.

        >>> import leafgrad
        >>> leafgrad.tensor([1.0, 2.0]).pow(2)
        tensor([1., 4.])
        """
        if isinstance(exponent, Tensor):
            return _binary(PowTensor, self, exponent)
        return _pow_scalar(self, exponent)

    def reciprocal(self) -> Tensor:
        """``1 / self``."""
        return _unary(Reciprocal, _to_float(self))

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return _unary(Exp, _to_float(self))

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _unary(Log, _to_float(self))

    def sin(self) -> Tensor:
        """Elementwise sine."""
        return _unary(Sin, _to_float(self))

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        return _unary(Cos, _to_float(self))

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return _unary(Tanh, _to_float(self))

    def sigmoid(self) -> Tensor:
        """Elementwise logistic function 1 / (1 + e**-x)."""
        return _unary(Sigmoid, _to_float(self))

    def relu(self) -> Tensor:
        """Elementwise max(x, 0)."""
        return _unary(Relu, self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _unary(Sqrt, _to_float(self))

    def abs(self) -> Tensor:
        """Elementwise absolute value."""
        return _unary(Abs, self)

    absolute = abs

    def sign(self) -> Tensor:
        """Elementwise sign: -1, 0 or 1."""
        return _unary(Sign, self)

    def add_(self, other, *, alpha=1) -> Tensor:
        """In-place ``self += alpha * other``."""
        return self._inplace(self.add, "add_", other, alpha=alpha)

    def sub_(self, other, *, alpha=1) -> Tensor:
        """In-place ``self -= alpha * other``."""
        return self._inplace(self.sub, "sub_", other, alpha=alpha)

    def mul_(self, other) -> Tensor:
        """In-place ``self *= other``."""
        return self._inplace(self.mul, "mul_", other)

    def div_(self, other) -> Tensor:
        """In-place ``self /= other``."""
        return self._inplace(self.div, "div_", other)

    def pow_(self, exponent) -> Tensor:
        """In-place ``self **= exponent``."""
        return self._inplace(self.pow, "pow_", exponent)

    def neg_(self) -> Tensor:
        """In-place negation."""
        return self._inplace(self.neg, "neg_")

    def _inplace(self, method, name: str, *args, **kwargs) -> Tensor:
        self._check_inplace(name)
        if _grad_state.enabled and (self._rg or any(
                isinstance(a, Tensor) and a._rg for a in args)):
            return self._inplace_from(method(*args, **kwargs), name)
        with _NoGrad():
            res = method(*args, **kwargs)._data
        if res.dtype != self._data.dtype and not _dt.can_cast(FROM_NP[res.dtype], self.dtype):
            raise RuntimeError(
                f"result type {FROM_NP[res.dtype].name.capitalize()} can't be cast to the desired "
                f"output type {self.dtype.name.capitalize()}\nWhy: {name} writes into the "
                f"existing {self.dtype} tensor; use the out-of-place op to get a new tensor."
            )
        if res.shape != self._data.shape:
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                f"{list(res.shape)}"
            )
        self._data[...] = res
        self._bump_version()
        return self

    __add__ = add

    def __radd__(self, other) -> Tensor:
        return _binary(Add, self, other)

    def __iadd__(self, other) -> Tensor:
        return self.add_(other)

    __sub__ = sub

    def __rsub__(self, other) -> Tensor:
        # NOTE: PyTorch records ``2 - x`` as RsubBackward1 (scalar) / RsubBackward0 (tensor)
        return _rsub(self, other)

    def __isub__(self, other) -> Tensor:
        return self.sub_(other)

    __mul__ = mul

    def __rmul__(self, other) -> Tensor:
        return _binary(Mul, self, other)

    def __imul__(self, other) -> Tensor:
        return self.mul_(other)

    __truediv__ = div

    def __rtruediv__(self, other) -> Tensor:
        # NOTE: PyTorch computes ``2 / x`` as ``x.reciprocal() * 2`` (MulBackward0 over
        # ReciprocalBackward0); keep the same graph so grad_fn names match.
        return self.reciprocal() * other

    def __itruediv__(self, other) -> Tensor:
        return self.div_(other)

    __pow__ = pow

    def __rpow__(self, other) -> Tensor:
        return _rpow_scalar(self, other)

    def __ipow__(self, other) -> Tensor:
        return self.pow_(other)

    __neg__ = neg

    def __pos__(self) -> Tensor:
        return self

    def positive(self) -> Tensor:
        """Returns self (``+x``)."""
        return self

    __abs__ = abs

    def __matmul__(self, other) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other) -> Tensor:
        return _as_tensor_like(other, self).matmul(self)

    # -- comparisons (not differentiable) --------------------------------------------------
    def eq(self, other) -> Tensor:
        """Elementwise ``==`` as a bool tensor."""
        return _compare(operator.eq, self, other, "eq")

    def ne(self, other) -> Tensor:
        """Elementwise ``!=`` as a bool tensor."""
        return _compare(operator.ne, self, other, "ne")

    def lt(self, other) -> Tensor:
        """Elementwise ``<`` as a bool tensor."""
        return _compare(operator.lt, self, other, "lt")

    def le(self, other) -> Tensor:
        """Elementwise ``<=`` as a bool tensor."""
        return _compare(operator.le, self, other, "le")

    def gt(self, other) -> Tensor:
        """Elementwise ``>`` as a bool tensor."""
        return _compare(operator.gt, self, other, "gt")

    def ge(self, other) -> Tensor:
        """Elementwise ``>=`` as a bool tensor."""
        return _compare(operator.ge, self, other, "ge")

    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = eq, ne, lt, le, gt, ge

    def bitwise_and(self, other) -> Tensor:
        """Elementwise AND of bool/integer tensors (``&``)."""
        return _bitwise(operator.and_, self, other, "bitwise_and")

    def bitwise_or(self, other) -> Tensor:
        """Elementwise OR of bool/integer tensors (``|``)."""
        return _bitwise(operator.or_, self, other, "bitwise_or")

    def bitwise_xor(self, other) -> Tensor:
        """Elementwise XOR of bool/integer tensors (``^``)."""
        return _bitwise(operator.xor, self, other, "bitwise_xor")

    def bitwise_not(self) -> Tensor:
        """Elementwise NOT (``~``): logical for bool, two's complement for integers."""
        if self._data.dtype.kind == "f":
            raise TypeError("~ (bitwise_not) is only supported for integer and bool tensors")
        return _wrap(~self._data)

    __and__, __or__, __xor__, __invert__ = bitwise_and, bitwise_or, bitwise_xor, bitwise_not
    __rand__, __ror__, __rxor__ = bitwise_and, bitwise_or, bitwise_xor

    def equal(self, other: Tensor) -> bool:
        """True when shapes and all values are equal."""
        return self._data.shape == other._data.shape and bool((self._data == other._data).all())

    # -- reductions ------------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Sum of all elements, or over ``dim`` (an int or a tuple of ints).

        >>> import leafgrad
        >>> leafgrad.tensor([[1, 2], [3, 4]]).sum(0)
        tensor([4, 6])
        """
        return _reduce.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Mean of all elements, or over ``dim``."""
        return _reduce.mean(self, dim, keepdim, dtype)

    # -- linear algebra --------------------------------------------------------------------
    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product with NumPy/PyTorch broadcasting rules (``@``)."""
        return _linalg.matmul(self, other)

    def mm(self, other: Tensor) -> Tensor:
        """Product of two 2-d matrices."""
        return _linalg.mm(self, other)

    # -- shape -----------------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        """The same elements in a new shape (a view when possible). One dim may be -1."""
        return _movement.reshape(self, parse_size_neg(shape))

    def view(self, *shape) -> Tensor:
        """A view with a new shape; fails when the memory layout does not allow it."""
        if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
            raise NotImplementedError("view(dtype) is not supported yet; use .to(dtype)")
        return _movement.view(self, parse_size_neg(shape))

    def view_as(self, other: Tensor) -> Tensor:
        """View with ``other``'s shape."""
        return self.view(other._data.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshape to ``other``'s shape."""
        return self.reshape(other._data.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dims ``start_dim..end_dim`` into one."""
        return _movement.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions (a view)."""
        return _movement.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self) -> Tensor:
        """Transpose a tensor of at most 2 dims."""
        return _movement.t(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dims reversed (PyTorch recommends mT for matrices)."""
        if self._data.ndim != 2:
            warnings.warn(
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2,
            )
        return _movement.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The last two dims swapped (batched matrix transpose)."""
        if self._data.ndim < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. Got "
                f"{self._data.ndim}-D tensor."
            )
        return self.transpose(-2, -1)

    def permute(self, *dims) -> Tensor:
        """Reorder dimensions (a view)."""
        return _movement.permute(self, parse_dims(dims))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size 1."""
        return _movement.unsqueeze(self, dim)

    def squeeze(self, dim=None) -> Tensor:
        """Remove dimensions of size 1 (all, or those in ``dim``)."""
        return _movement.squeeze(self, dim)

    def expand(self, *sizes) -> Tensor:
        """Broadcast size-1 dims to larger sizes without copying (-1 keeps a size)."""
        return _movement.expand(self, parse_size_neg(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        """Expand to ``other``'s shape."""
        return self.expand(other._data.shape)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim`` as a tuple of tensors."""
        d = _wrap_dim(dim, self._data.ndim, "unbind")
        return tuple(_movement.select(self, d, i) for i in range(self._data.shape[d]))

    def __getitem__(self, index) -> Tensor:
        return _movement.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        _movement.setitem(self, index, value)


class _NoGrad:
    """Minimal no_grad for internal use (avoids the decorator machinery)."""

    __slots__ = ("prev",)

    def __enter__(self):
        self.prev = _grad_state.enabled
        _grad_state.enabled = False

    def __exit__(self, *exc):
        _grad_state.enabled = self.prev


def _contiguous_strides(shape) -> tuple:
    st = []
    acc = 1
    for d in reversed(shape):
        st.append(acc)
        acc *= max(d, 1)
    return tuple(reversed(st))


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    """Normalise a possibly negative dim, with PyTorch's IndexError for one out of range."""
    n = max(ndim, 1)  # NOTE: PyTorch lets a 0-d tensor use dim 0 / -1
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
            f"\nWhy: {op} was asked for dim {dim} of a {ndim}-d tensor; dims count from 0, and "
            "negative dims count from the end."
        )
    return dim + n if dim < 0 else dim


def parse_dims(dims: tuple) -> tuple:
    """Accept ``permute(1, 0)`` and ``permute((1, 0))``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def parse_size_neg(args: tuple) -> tuple:
    """Like parse_size but allows -1 entries (reshape/view/expand)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for d in args:
        try:
            out.append(operator.index(d))
        except TypeError:
            raise TypeError(
                f"shape must be a sequence of ints, but got an element of type {type(d).__name__}"
            ) from None
    return tuple(out)


def _as_tensor_like(v, like: Tensor) -> Tensor:
    if isinstance(v, Tensor):
        return v
    from .creation import as_tensor

    return as_tensor(v, device=like.device)


def _compare(op, a: Tensor, b, name: str) -> Tensor:
    bd = b._data if isinstance(b, Tensor) else b
    try:
        return _wrap(op(a._data, bd))
    except ValueError:
        from .ops.elementwise import broadcast_error

        raise broadcast_error(name, a, b) from None


from .autograd import node as _node  # noqa: E402

_node._wrap = _wrap  # Op.out wraps saved results without an import on the hot path
_node._Tensor = Tensor

# The op modules import Tensor, so they are imported after it; methods reach them as globals
# (an import statement inside a method would cost about a microsecond per call).
from . import _tensor_str  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import movement as _movement  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops.elementwise import (  # noqa: E402
    Abs,
    Add,
    Clone,
    Cos,
    Div,
    Exp,
    Log,
    Mul,
    Neg,
    PowTensor,
    Reciprocal,
    Relu,
    Sigmoid,
    Sign,
    Sin,
    Sqrt,
    Sub,
    Tanh,
    ToCopy,
    ToDevice,
    _binary,
    _pow_scalar,
    _rpow_scalar,
    _to_float,
    _unary,
)
from .ops.elementwise import AddAlpha as _AddAlpha  # noqa: E402
from .ops.elementwise import SubAlpha as _SubAlpha  # noqa: E402
from .ops.elementwise import add_alpha as _add_alpha  # noqa: E402
from .ops.elementwise import bitwise as _bitwise  # noqa: E402
from .ops.elementwise import rsub as _rsub  # noqa: E402

