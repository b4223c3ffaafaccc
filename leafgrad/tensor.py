"""The Tensor facade: an array plus autograd state, with PyTorch's attributes and methods."""

from __future__ import annotations

import warnings

import numpy as np

from . import _interop
from . import backend as _backend
from . import dtypes as _dt
from ._dims import _contiguous_strides, _wrap_dim, parse_dims, parse_size_neg  # noqa: F401
from .autograd import engine as _engine
from .autograd import function as _function
from .autograd import node as _node
from .autograd.grad_mode import _NoGrad  # noqa: F401
from .autograd.grad_mode import state as _grad_state
from .autograd.node import EPOCH as _EPOCH
from .autograd.node import RemovableHandle, SavedVersions
from .dtypes import FROM_NP
from .methods import linalg as _m_linalg
from .methods import reduce as _m_reduce
from .methods.elementwise import ElementwiseMethods
from .methods.elementwise import arith as _m_ew_arith
from .methods.elementwise import binary as _m_ew_binary
from .methods.elementwise import mixin as _m_ew_mixin
from .methods.linalg import LinalgMethods
from .methods.reduce import ReductionMethods
from .methods.shape import ShapeMethods
from .methods.shape import functions as _m_shape_functions
from .methods.shape import mixin as _m_shape_mixin
from .ops import dual as _dual
from .size import Size, parse_size


def _link() -> None:
    """Import what Tensor's methods need from modules that import this one (docs/design.md,
    "The import cycle"); run once, at the end of this module."""
    global _tensor_str, Clone, ToCopy, ToDevice, _unary
    global check_overlap, check_view_inplace, writable_target, rebase_history, refresh_view
    global set_history, sharing_counts
    from . import _tensor_str
    from .ops.elementwise import Clone, ToCopy, ToDevice, _unary
    from .ops.inplace_view import (
        check_overlap,
        check_view_inplace,
        rebase_history,
        refresh_view,
        set_history,
        sharing_counts,
        writable_target,
    )


_new = object.__new__
_new_size = tuple.__new__
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

    __slots__ = ("base", "hooks", "post_hooks", "retains_grad", "accum", "name", "seen",
                 "creation")

    def __init__(self) -> None:
        self.base = None            # the tensor this one is a view of (never itself a view)
        self.seen = 0               # (a view) the shared version its grad_fn reflects
        self.creation = 0           # (a view) how it was made: ops/inplace_view.py, CREATION_*
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
    t._fn = grad_fn
    t._out_nr = 0
    t._grad = None
    t._vc = None
    t._x = None
    return t


class Tensor(ElementwiseMethods, ReductionMethods, ShapeMethods, LinalgMethods):
    """A multi-dimensional array that can record the operations applied to it for autograd.

    >>> import leafgrad
    >>> x = leafgrad.tensor([[1.0, 0.0], [-1.0, 1.0]], requires_grad=True)
    >>> z = x.pow(2).sum(); z.backward(); x.grad
    tensor([[ 2.,  0.],
            [-2.,  2.]])
    """

    # _fn: the node that made this tensor (``grad_fn`` reads it, regenerating a view's first)
    __slots__ = ("_data", "_rg", "_fn", "_out_nr", "_grad", "_vc", "_x", "__weakref__")
    __array_priority__ = 1000  # make NumPy defer to Tensor's reflected operators

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False) -> None:
        # torch.Tensor(2, 3) makes an uninitialised float tensor; torch.Tensor([1, 2]) a float copy
        if len(args) == 1 and not isinstance(args[0], int):
            src = args[0]
            data = np.array(src._data if isinstance(src, Tensor) else src,
                            dtype=(dtype or _dt.get_default_dtype()).np)
        else:
            # NOTE: torch.Tensor() with no size is an empty 1-d tensor, not a 0-d one
            size = parse_size(args) if args else (0,)
            data = np.zeros(size, dtype=(dtype or _dt.get_default_dtype()).np)
        data = _backend.move(data, _backend.as_device(device))
        self._data = data
        self._rg = False
        self._fn = None
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

    def _check_inplace(self, op: str, rg: bool | None = None) -> None:
        """Raise PyTorch's error for an in-place op that autograd could not track.

        ``rg``: whether the op's result requires grad (some operand does); by default, self's.
        """
        if not _grad_state.enabled:
            return
        x = self._x
        base = x.base if x is not None else None
        if rg is None:
            rg = self._rg or (base is not None and self.requires_grad)
        if not rg:
            return
        if base is not None:
            check_view_inplace(self, base, op)
        if self._rg and self._fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation.\n"
                f"Why: {op} would overwrite a leaf whose gradient autograd must accumulate; "
                "update parameters inside `with torch.no_grad():`, or use the out-of-place op."
            )

    def _inplace_from(self, result: Tensor, op: str, operands=(), strict: bool = False,
                      again=None) -> Tensor:
        """Make ``self`` hold ``result`` (an out-of-place op's output) and take over its history.

        ``operands``: the op's other arguments, checked for memory overlap with ``self`` as
        PyTorch does (``strict``: any overlap is refused, not only a partial one). ``again``:
        recomputes the result from self's current values (when self's elements share memory,
        PyTorch's kernel applies the op once per element: see writable_target).
        """
        fn = result._fn
        self._check_inplace(op, fn is not None)
        res = result._data
        data = self._data
        if res.dtype != data.dtype:
            if not _dt.can_cast(FROM_NP[res.dtype], self.dtype):
                raise RuntimeError(
                    f"result type {FROM_NP[res.dtype].name.capitalize()} can't be cast to the "
                    f"desired output type {self.dtype.name.capitalize()}\n"
                    f"Why: {op} writes into the existing {self.dtype} tensor, and that would "
                    "silently drop information; use the out-of-place op to get a new tensor."
                )
        if res.shape != data.shape:
            raise RuntimeError(
                f"output with shape {list(data.shape)} doesn't match the broadcast shape "
                f"{list(res.shape)}\nWhy: an in-place op ({op}) cannot change the tensor's shape; "
                "use the out-of-place op instead."
            )
        # (device arrays have no writeable flag: their memory always is)
        if not data.flags.c_contiguous or not getattr(data.flags, "writeable", True):
            # PyTorch's internal-overlap rules
            data = writable_target(self, op, again is not None and all(
                o.__class__ is not Tensor or not o._data.ndim for o in operands))
        else:
            again = None
        if operands:
            check_overlap(self, operands, op, strict)
        if fn is not None and fn.inputs is not None and fn.inputs and fn.inputs[0] is self:
            # The node needs self's value from before this op: keep a copy (PyTorch's
            # original_self), so the overwrite below does not corrupt the derivative. Only the
            # first input is self's old value; self passed again as another operand
            # (x.mul_(x)) stays self, and backward refuses it as modified, as PyTorch does.
            orig = _wrap(data.copy(), self._rg, self._fn)
            orig._out_nr = self._out_nr
            fn.inputs = (orig,) + tuple(fn.inputs[1:])
            if fn._vers.__class__ is SavedVersions:
                fn._vers = SavedVersions((0,) + tuple(fn._vers[1:]))
            sv = getattr(fn, "_saved_v", None)
            if sv is not None:
                fn._saved_v = SavedVersions((0,) + tuple(sv[1:]))
        try:
            if data.ndim:
                data[...] = res
            else:
                data[()] = res
        except ValueError:  # memory NumPy holds read-only (not ours to write)
            raise RuntimeError(
                f"{op}: the tensor's memory is read-only (it came from a read-only NumPy array); "
                "clone() it first.") from None
        if again is not None and data.size > 1:
            counts = sharing_counts(data)
            for r in range(2, int(counts.max()) + 1):
                # elements sharing a location: the op applied once more for each (kernel order)
                mask = counts >= r
                data[mask] = again()._data[mask]
        self._bump_version()
        if fn is not None:
            if fn._out_vc is not None:
                # the node saved its result, which now lives in self: check self's version
                vc = self._shared_vc()
                fn._out, fn._out_vc, fn._out_v = self._data, vc, vc.v
            if self._x is not None and self._x.base is not None:
                # a view of a tensor in the graph: rewrite the base's history (CopySlices)
                rebase_history(self, result)
            else:
                set_history(self, fn)
        return self

    # -- autograd state --------------------------------------------------------------------
    @property
    def grad_fn(self):
        """The node that made this tensor (None for a leaf).

        A view's node is regenerated (``AsStridedBackward0``) when its memory was changed in
        place since it was taken, through its base or another view, as PyTorch does on access.

        >>> import leafgrad
        >>> b = leafgrad.ones(2, 2, requires_grad=True) * 1; v = b.t(); v.grad_fn.name()
        'TBackward0'
        >>> _ = b.mul_(2); v.grad_fn.name()
        'AsStridedBackward0'
        """
        x = self._x
        if x is not None and x.base is not None:
            refresh_view(self)
        return self._fn

    @grad_fn.setter
    def grad_fn(self, fn) -> None:
        # NOTE: internal (PyTorch's grad_fn is read-only); ops and custom Functions set it
        self._fn = fn

    @property
    def requires_grad(self) -> bool:
        """Whether autograd records operations on this tensor.

        A view requires grad when its base does, as in PyTorch (even one taken under no_grad).
        """
        if self._rg:
            return True
        x = self._x
        if x is not None and x.base is not None:
            return self._fn is not None or x.base._rg
        return False

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
        if self._x is not None and self._x.base is not None:  # any view, as PyTorch's is_view
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."  # noqa: E501
            )
        if self._fn is not None:
            _EPOCH.v += 1  # nodes that saved this tensor check it again (it is no longer theirs)
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
        return _new_size(Size, self._data.shape)  # NumPy shapes are ints: skip Size's checks

    def size(self, dim: int | None = None):
        """The shape, or the size of one dimension.

        >>> import leafgrad
        >>> leafgrad.zeros(2, 3).size(), leafgrad.zeros(2, 3).size(-1)
        (torch.Size([2, 3]), 3)
        """
        if dim is None:
            return _new_size(Size, self._data.shape)
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

    def data_ptr(self) -> int:
        """Address of the first element: equal for tensors that share memory from the same start."""
        a = self._data
        return a.data.ptr if hasattr(a.data, "ptr") else a.__array_interface__["data"][0]

    def stride(self, dim: int | None = None):
        """Strides in elements (not bytes), as PyTorch reports them."""
        if self._data.size == 0:
            # NOTE: NumPy gives empty arrays zero strides; PyTorch reports the row-major ones
            st = _contiguous_strides(self._data.shape)
        else:
            item = self._data.itemsize
            st = tuple(s // item for s in self._data.strides)
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
            return _backend.to_numpy(self._data) if self.device.type != "cpu" else self._data
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

    # NumPy and DLPack protocols: the logic (and its notes on PyTorch's behaviour) is in _interop
    def __array__(self, dtype=None, copy=None):
        return _interop.to_array(self, dtype, copy)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        return _interop.wrap_array(array)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return _interop.dlpack(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self) -> tuple:
        return _interop.dlpack_device(self)

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
            elif isinstance(a, bool):
                pass  # non_blocking given positionally (before int: a bool is an int)
            elif isinstance(a, (str, _backend.device, int)):
                device = a
            elif a is None:
                pass
            else:
                dtype = _dt.as_dtype(a)
        t = self
        if device is not None:
            dev = _backend.as_device(device)
            if dev != t.device:
                t = ToDevice.apply_to(t, dev)
                copy = False
        if dtype is not None and _dt.as_dtype(dtype) is not t.dtype:
            target = _dt.as_dtype(dtype)
            if target.is_floating_point:
                t = ToCopy.apply_to(t, target)
            else:
                # NOTE: an integer/bool result is not differentiable: PyTorch records no node.
                # nan/inf cast to an integer without NumPy's "invalid value" warning, as in torch
                with np.errstate(invalid="ignore", over="ignore"):
                    t = _wrap(t._data.astype(target.np))
            copy = False
        if copy and t is self:
            t = self.clone()
        return t

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """With no argument, the type name (``'torch.FloatTensor'``); otherwise a cast."""
        if dtype is None:
            from .autograd.node import _type_name

            return "torch." + _type_name(self)
        if isinstance(dtype, type) and hasattr(dtype, "dtype"):  # t.type(torch.LongTensor)
            dtype = dtype.dtype
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

    def bfloat16(self) -> Tensor:
        """Cast to bfloat16: raises TypeError, leafgrad has no bfloat16 tensors."""
        return self.to(_dt.bfloat16)

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
        return self._fill(value, "fill_")

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return self._fill(0, "zero_")

    def _fill(self, value, op: str) -> Tensor:
        vt = value if isinstance(value, Tensor) else None
        if vt is not None:
            if vt._data.ndim:
                raise RuntimeError(
                    f"fill_ only supports 0-dimension value tensor but got tensor with "
                    f"{vt._data.ndim} dimensions."
                )
            value = vt.item()
            if self._data.size > 1:  # PyTorch's fill_ of a tensor refuses an expanded target
                writable_target(self, op, through_expand=False)
        if vt is None and isinstance(value, (int, float)) and self._data.dtype.kind in "iuf":
            from .creation import _as_numpy_value, _parsed_int

            # PyTorch's checked conversion: int8.fill_(300) is an error, not a wrap-around
            value = _as_numpy_value(_parsed_int(value), self._data.dtype)
        if _grad_state.enabled and (self.requires_grad or (vt is not None and vt.requires_grad)):
            from .ops.inplace_view import fill

            # NOTE: a 0-d tensor value gets a gradient (PyTorch's FillBackward3)
            self._check_inplace(op, True)
            return self._inplace_from(fill(self, value if vt is None else vt,
                                           zero=op == "zero_"), op)
        self._check_inplace(op)
        writable_target(self, op).fill(value)
        self._bump_version()
        return self

    def copy_(self, src: Tensor, non_blocking: bool = False) -> Tensor:
        """Copy ``src``'s values into this tensor in place (broadcasting ``src``)."""
        src_t = src if isinstance(src, Tensor) else _wrap(np.asarray(src))
        if _grad_state.enabled and (src_t.requires_grad or self.requires_grad):
            from .ops.inplace_view import copy_from

            self._check_inplace("copy_", True)
            if src_t.device != self.device:
                src_t = src_t.to(self.device)
            return self._inplace_from(copy_from(self, src_t), "copy_", (src_t,))
        self._check_inplace("copy_")
        data = writable_target(self, "copy_")
        check_overlap(self, (src_t,), "copy_")
        try:
            data[...] = _backend.move(src_t._data, self.device)
        except ValueError:
            from ._dims import broadcast_mismatch

            raise broadcast_mismatch(self._data.shape, src_t._data.shape, "copy_") from None
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
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
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
        return _interop.deepcopy(self, memo)

    def __reduce_ex__(self, proto):
        return _interop.reduce_ex(self, proto)


# -- the import cycle (docs/design.md) ----------------------------------------------------------
# The op modules import Tensor, and Tensor's own imports (autograd, the method mixins) load
# before it exists. Each module that needs names from this one or from the op modules imports
# them in its `_link()`, which runs here, once, now that Tensor exists.
for _m in (_node, _function, _engine, _m_ew_mixin, _m_ew_arith, _m_ew_binary, _m_linalg,
           _m_reduce, _m_shape_mixin, _m_shape_functions, _dual):
    _m._link()
_link()
del _m
