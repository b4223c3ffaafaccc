"""Named-tuple returns (torch.return_types) and recording ops with several outputs."""

from __future__ import annotations

from ...autograd.node import EPOCH
from ...tensor import Tensor, VersionCounter, _wrap

# -- named-tuple returns and multi-output recording ------------------------------------------------
_FIELDS = {
    "max": ("values", "indices"), "min": ("values", "indices"),
    "median": ("values", "indices"), "nanmedian": ("values", "indices"),
    "mode": ("values", "indices"), "cummax": ("values", "indices"),
    "cummin": ("values", "indices"), "aminmax": ("min", "max"),
    "linalg_slogdet": ("sign", "logabsdet"), "slogdet": ("sign", "logabsdet"),
    "linalg_qr": ("Q", "R"), "linalg_svd": ("U", "S", "Vh"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
    "triangular_solve": ("solution", "cloned_coefficient"),
    "linalg_cholesky_ex": ("L", "info"), "linalg_inv_ex": ("inverse", "info"),
    "svd": ("U", "S", "V"), "histogram": ("hist", "bin_edges"),
}
_TYPES: dict = {}


def return_type(name: str):
    """The named-tuple class PyTorch returns as ``torch.return_types.<name>``."""
    cls = _TYPES.get(name)
    if cls is None:
        import collections

        base = collections.namedtuple(name, _FIELDS[name])

        def __repr__(self) -> str:  # noqa: N807
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
            return f"torch.return_types.{name}(\n{body})"

        cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                   "__module__": "torch.return_types"})
        _TYPES[name] = cls
    return cls


def record_multi(fn, inputs: tuple, outs: tuple) -> list:
    """Record an op with several differentiable outputs (``fn._nout``); raw outputs are kept
    in ``fn.outs`` for backward (read with ``_outs``)."""
    from .._apply import record

    t0 = record(fn, inputs, outs[0])
    ts = [t0]
    for k, o in enumerate(outs[1:], 1):
        t = _wrap(o)  # _wrap makes a NumPy scalar a 0-d array
        if t0._fn is fn:
            t._rg = True
            t._fn = fn
            t._out_nr = k
        ts.append(t)
    if t0._fn is fn:
        fn.outs = tuple(t._data for t in ts)
        if fn.saved_outputs:
            # the outputs PyTorch saves: their in-place changes are refused at backward
            vcs = [None] * len(ts)
            for k in fn.saved_outputs:
                vcs[k] = ts[k]._vc = VersionCounter()
            fn._outs_vc = tuple(vcs)
            if fn._vers is None:
                fn._vers = EPOCH.v
    return ts


def _outs(fn, grad) -> tuple:
    """The saved outputs of a multi-output op in ``grad``'s form (Tensors linked to ``fn`` when
    building a graph, so their use in the formula is differentiated too)."""
    if fn.outs is None:
        from ...autograd.node import FREED_MSG

        raise RuntimeError(FREED_MSG.format(name=fn.name()))
    if not isinstance(grad, Tensor):
        return fn.outs
    from ...autograd.grad_mode import state

    res = []
    for k, o in enumerate(fn.outs):
        t = _wrap(o)
        if state.enabled:
            t._rg = True
            t.grad_fn = fn
            t._out_nr = k
        res.append(t)
    return tuple(res)
