"""The Optimizer base class: parameter groups, per-parameter state, state dicts, step hooks."""

from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from .. import backend as _backend
from .. import dtypes as _dt
from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import RemovableHandle
from ..tensor import Tensor, _wrap

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook",
           "required"]

_global_pre_hooks: list = []
_global_post_hooks: list = []


class _RequiredParameter:
    """Marks a hyper-parameter that every parameter group must give (``torch.optim.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``.

    >>> h = register_optimizer_step_pre_hook(lambda opt, args, kwargs: None); h.remove()
    """
    _global_pre_hooks.append(hook)
    return RemovableHandle(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``.

    >>> h = register_optimizer_step_post_hook(lambda opt, args, kwargs: None); h.remove()
    """
    _global_post_hooks.append(hook)
    return RemovableHandle(_global_post_hooks, hook)


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return "torch." + {"float32": "FloatTensor", "float64": "DoubleTensor",
                           "float16": "HalfTensor", "int64": "LongTensor", "int32": "IntTensor",
                           "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                           "bool": "BoolTensor"}.get(obj.dtype.name, "Tensor")
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


def _get_scalar_dtype() -> _dt.dtype:
    """The dtype of ``state['step']``: float64 when that is the default dtype, else float32."""
    return _dt.float64 if _dt.get_default_dtype() is _dt.float64 else _dt.float32


def _step_tensor(value: float = 0.0, like=None) -> Tensor:
    """A fresh 0-d ``step`` (or ``mu_product``...) counter, as torch keeps it: a float tensor, on
    the CPU unless ``like`` (a parameter's array) gives the device (ASGD keeps them there)."""
    a = np.array(value, dtype=_get_scalar_dtype().np)
    return _wrap(a if like is None else _backend.like(a, like))


def _to_scalar(x):
    """A 1-element Tensor hyper-parameter as a 0-d tensor; anything else unchanged."""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _value(x):
    """A hyper-parameter as a Python number (``lr`` may be a 1-element Tensor)."""
    return x.item() if isinstance(x, Tensor) else x


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _call_closure(closure):
    """Run the closure with grad enabled (the step itself runs under no_grad)."""
    if closure is None:
        return None
    prev = _grad_state.enabled
    _grad_state.enabled = True
    try:
        return closure()
    finally:
        _grad_state.enabled = prev


def _hooked_step(step: Callable) -> Callable:
    """Wrap a subclass's ``step``: no grad while it runs, and the pre/post step hooks around it."""

    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]
        for hook in (*_global_pre_hooks, *self._step_pre_hooks):
            result = hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                        f"{result}."
                    )
        prev = _grad_state.enabled
        _grad_state.enabled = False  # the update itself is never recorded (closures re-enable)
        try:
            out = step(*args, **kwargs)
        finally:
            _grad_state.enabled = prev
        for hook in (*self._step_post_hooks, *_global_post_hooks):
            hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


class Optimizer:
    """Base class of all optimizers: holds ``param_groups`` and per-parameter ``state``.

    Subclasses implement ``step``; the base class gives parameter groups, ``zero_grad``,
    ``state_dict``/``load_state_dict`` in PyTorch's layout, and the step hooks.

    >>> import leafgrad
    >>> w = leafgrad.zeros(2, requires_grad=True)
    >>> opt = leafgrad.optim.SGD([w], lr=0.1)
    >>> opt.param_groups[0]["lr"], len(opt.state)
    (0.1, 0)
    """

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._step_pre_hooks: list = []
        self._step_post_hooks: list = []
        self._state_dict_pre_hooks: list = []
        self._state_dict_post_hooks: list = []
        self._load_state_dict_pre_hooks: list = []
        self._load_state_dict_post_hooks: list = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}\nWhy: an optimizer updates a list of "
                "tensors; pass [tensor] or model.parameters()."
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list\nWhy: there is nothing to optimize; if "
                "you passed model.parameters(), the model has no parameters yet (or a generator "
                "that was already consumed)."
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- pickling and printing -------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_step_pre_hooks", "_step_post_hooks", "_state_dict_pre_hooks",
                     "_state_dict_post_hooks", "_load_state_dict_pre_hooks",
                     "_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, [])
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # -- groups ----------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own options) to optimize.

        >>> import leafgrad
        >>> opt = leafgrad.optim.SGD([leafgrad.zeros(1, requires_grad=True)], lr=0.1)
        >>> opt.add_param_group({"params": [leafgrad.zeros(2, requires_grad=True)], "lr": 0.01})
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for p in param_group["params"]:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{_typename(p)}"
                )
            if not self.defaults.get("differentiable", None) and not (p.is_leaf
                                                                      or p.retains_grad):
                raise ValueError(
                    "can't optimize a non-leaf Tensor\nWhy: this tensor was computed from "
                    f"others (grad_fn={p.grad_fn.name()}), so an update to it would be "
                    "overwritten the next time it is computed; optimize the leaf tensors it "
                    "comes from (e.g. create it with requires_grad=True, or use .detach()"
                    ".requires_grad_())."
                )
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len({id(p) for p in tensors}):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information", stacklevel=3)
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not seen.isdisjoint(id(p) for p in tensors):
            raise ValueError(
                "some parameters appear in more than one parameter group\nWhy: each parameter "
                "gets one set of options (lr, ...) and one state; list it in one group only."
            )
        self.param_groups.append(param_group)

    # -- gradients -------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to None by default, else to zeros).

        >>> import leafgrad
        >>> w = leafgrad.ones(2, requires_grad=True); (w * 2).sum().backward()
        >>> opt = leafgrad.optim.SGD([w], lr=0.1); opt.zero_grad(); w.grad is None
        True
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Update the parameters once (subclasses implement it)."""
        raise NotImplementedError

    # -- hooks -----------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; it may return new args."""
        self._step_pre_hooks.append(hook)
        return RemovableHandle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        self._step_post_hooks.append(hook)
        return RemovableHandle(self._step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """Call ``hook(optimizer)`` before ``state_dict()`` builds the dict."""
        return _add_hook(self._state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """Call ``hook(optimizer, state_dict)`` after; a returned dict replaces it."""
        return _add_hook(self._state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """Call ``hook(optimizer, state_dict)`` before loading; a returned dict replaces it."""
        return _add_hook(self._load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """Call ``hook(optimizer)`` after ``load_state_dict`` has loaded."""
        return _add_hook(self._load_state_dict_post_hooks, hook, prepend)

    # -- state dicts -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout: ``{'state': {id: {...}}, 'param_groups'}``.

        Parameters are replaced by integer ids, numbered in group order; the state tensors are
        the live ones (not copies), as in PyTorch.

        >>> import leafgrad
        >>> opt = leafgrad.optim.SGD([leafgrad.zeros(1, requires_grad=True)], lr=0.1)
        >>> opt.state_dict()["param_groups"][0]["params"]
        [0]
        """
        for hook in self._state_dict_pre_hooks:
            hook(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        packed_state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        sd = {"state": packed_state, "param_groups": groups}
        for hook in self._state_dict_post_hooks:
            result = hook(self, sd)
            if result is not None:
                sd = result
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from ``state_dict()`` (this library's, or torch's converted via NumPy).

        State values may be leafgrad Tensors, NumPy arrays or numbers; floating-point state is
        cast to its parameter's dtype, except ``step``, which keeps its own.

        >>> import leafgrad
        >>> w = leafgrad.zeros(1, requires_grad=True)
        >>> opt = leafgrad.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> opt.load_state_dict({"state": {0: {"momentum_buffer": leafgrad.ones(1)}},
        ...                      "param_groups": [dict(opt.state_dict()["param_groups"][0])]})
        >>> opt.state[w]["momentum_buffer"]
        tensor([1.])
        """
        state_dict = state_dict.copy()
        for hook in self._load_state_dict_pre_hooks:
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups\nWhy: the saved "
                f"optimizer had {len(saved_groups)} group(s), this one has {len(groups)}; build "
                "the optimizer with the same groups before loading."
            )
        for g, sg in zip(groups, saved_groups):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group\nWhy: a saved group lists {len(sg['params'])} "
                    f"parameter(s) where this optimizer's has {len(g['params'])}."
                )
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def policy(param: Tensor, value, param_id, key) -> Tensor:
            value = _as_tensor(value)
            if key == "step":
                fused = capturable = False
                for pg in state_dict["param_groups"]:
                    if param_id in pg["params"]:
                        fused = pg.get("fused", False)
                        capturable = pg.get("capturable", False)
                        break
                if fused or capturable:
                    return value.to(dtype=_dt.float32, device=param.device)
                return value
            if param.is_floating_point():
                return value.to(dtype=param.dtype, device=param.device)
            return value.to(device=param.device)

        def cast(param, value, param_id=None, key=None):
            if isinstance(value, Tensor) or isinstance(value, np.ndarray) or (
                    hasattr(value, "__array__") and hasattr(value, "dtype")
                    and not isinstance(value, np.generic)):
                return policy(param, value, param_id, key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, str):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v, k)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for hook in self._load_state_dict_post_hooks:
            hook(self)

    # -- helpers for subclasses ------------------------------------------------------------
    def _check_flags(self, group: dict[str, Any], fused_ok: bool = False) -> None:
        """Refuse the options leafgrad cannot honour (with the reason), before any update."""
        if group.get("fused"):
            raise RuntimeError(
                f"{type(self).__name__}(fused=True) is not supported by leafgrad\nWhy: torch's "
                "fused kernels round differently from its for-loop implementation, and leafgrad "
                "reproduces the for-loop one (foreach=False) bit for bit; drop fused=True."
            )
        if group.get("differentiable"):
            raise RuntimeError(
                f"{type(self).__name__}(differentiable=True) is not supported by leafgrad\n"
                "Why: leafgrad's optimizers update the parameters' arrays in place, outside "
                "autograd, so a gradient cannot flow through the step; drop differentiable=True."
            )
        if group.get("capturable"):
            raise AssertionError(
                "If capturable=True, params and state_steps must be on supported devices: "
                "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'].\nWhy: capturable exists for "
                "CUDA graph capture; on the CPU use capturable=False (the default)."
            )

    def _with_grads(self, group: dict[str, Any], name: str) -> list[Tensor]:
        """The group's parameters that have a gradient (the others are skipped, as in torch)."""
        self._check_flags(group)
        out = []
        for p in group["params"]:
            g = p._grad
            if g is not None:
                if g._data.shape != p._data.shape or g._data.dtype != p._data.dtype:
                    raise RuntimeError(
                        f"{name}: a parameter of shape {list(p.shape)} and dtype {p.dtype} has a "
                        f"gradient of shape {list(g.shape)} and dtype {g.dtype}\nWhy: the "
                        "update needs a gradient like its parameter; check what was assigned "
                        "to .grad."
                    )
                out.append(p)
        return out


def _add_hook(hooks: list, hook: Callable, prepend: bool) -> RemovableHandle:
    if prepend:
        hooks.insert(0, hook)
    else:
        hooks.append(hook)
    return RemovableHandle(hooks, hook)


def _as_tensor(value) -> Tensor:
    """A state value as a leafgrad Tensor: Tensors as they are, arrays (NumPy, torch) copied."""
    if isinstance(value, Tensor):
        return value
    if not isinstance(value, np.ndarray):
        if hasattr(value, "detach"):  # a torch tensor: through NumPy, never through pickle
            value = value.detach().cpu().numpy()
        value = np.asarray(value)
    return _wrap(np.array(value, copy=True))
