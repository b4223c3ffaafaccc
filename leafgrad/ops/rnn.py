"""Recurrent layers as fused nodes: one node runs one layer in one direction over the whole
sequence (PyTorch's CPU LSTM records the same: ``MkldnnRnnLayerBackward0`` per layer and
direction), for LSTM (with projections), GRU and the tanh/ReLU RNN, padded or packed.

Why one node per layer rather than one per time step: the recurrence forces two small matrix
products per step (``h @ W_hhᵀ`` forward, ``dgates @ W_hh`` backward), but everything else can
run over all steps at once: the input projection ``x @ W_ihᵀ`` for every step is one big GEMM,
and so are the weight gradients (``dGᵀ x``, ``dGᵀ h_prev``) and the input gradient; the
elementwise factors of the backward are computed for all steps in a few vectorised passes, so
each step does about seven NumPy calls. Memory is linear in the sequence length (the gates,
cell states and outputs of every step), and the backward is a plain loop: a sequence of any
length backpropagates without recursion.

Internally the steps walk the rows of a *packed* layout: step t owns rows ``lo:hi`` (its batch
size ``bs`` rows, longest sequences first). A padded (T, B, ·) input is the packed layout with
every batch size B, so both share one loop. The hidden state lives in a (B, ·) array whose first
``bs`` rows are updated at each step; rows that finished (forward) or have not started yet
(reverse direction) keep their final / initial state, which is exactly what PyTorch returns.

With ``create_graph`` (a gradient that will itself be differentiated) the backward recomputes
the layer from core differentiable ops and differentiates that, so higher derivatives are exact.
"""

from __future__ import annotations

from ..autograd.grad_mode import enable_grad, state
from ..autograd.node import FREED_MSG, Op
from ..backend import array_module
from ..tensor import Tensor, _wrap
from ._apply import record
from ._workspace import Saved, give, take

__all__ = ["rnn", "rnn_layer", "lstm_cell", "gru_cell"]

_new = object.__new__


def _sigmoid_(a) -> None:
    """In place: a = 1 / (1 + exp(-a)) (exp overflows to inf for very negative a: gives 0)."""
    xp = array_module(a)
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _steps(n_steps: int, batch: int, batch_sizes, reverse: bool) -> list:
    """(lo, hi, bs) for each step in processing order: the rows of that step in the packed
    layout and its batch size."""
    if batch_sizes is None:
        steps = [(t * batch, (t + 1) * batch, batch) for t in range(n_steps)]
    else:
        steps, lo = [], 0
        for bs in batch_sizes:
            bs = int(bs)
            steps.append((lo, lo + bs, bs))
            lo += bs
    if reverse:
        steps.reverse()
    return steps


def _prev_rows(seq, init, batch: int, reverse: bool, out=None):
    """For a padded layout: the state each step started from (``init`` for the first step),
    laid out like ``seq`` (rows of the previous step, in processing order)."""
    if out is None:
        out = array_module(seq).empty_like(seq)
    if reverse:
        out[:-batch] = seq[batch:]
        out[-batch:] = init
    else:
        out[:batch] = init
        out[batch:] = seq[:-batch]
    return out


class _Layer(Op):
    """Common part of the recurrent layer nodes: the step schedule and the graph-mode backward.

    ``inputs`` is (x, h0, [c0,] w_ih, w_hh, b_ih, b_hh, [w_hr,] cache): absent biases and
    projections are None, and the last entry holds the forward's intermediate arrays (it rides
    in ``inputs`` so that the engine frees it with the saved tensors after backward).
    """

    save_inputs = True
    save_output = True  # the output sequence is read back in backward: in-place edits refused
    __slots__ = ("reverse", "batch_sizes", "batch", "mode", "n_steps")

    def _schedule(self, n_rows: int) -> list:
        return _steps(self.n_steps, self.batch, self.batch_sizes, self.reverse)

    def _graph_backward(self, grads: tuple) -> tuple:
        """Gradients as a graph (create_graph): recompute the layer from differentiable core
        ops on aliases of the saved inputs, and differentiate that."""
        from ..autograd.engine import grad as autograd_grad

        saved = self.inputs
        if saved is None:
            raise RuntimeError(FREED_MSG.format(name=self.name()))
        tensors = saved[:-1]
        need = self.needs_input_grad
        want = [k for k, t in enumerate(tensors) if t is not None and need[k]]
        args = list(tensors)
        with enable_grad():
            for k in want:
                args[k] = tensors[k].view_as(tensors[k])
            outs = composite_layer(self.mode, args, self.batch_sizes, self.reverse,
                                   self.batch, self.n_steps)
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
        res = autograd_grad([o for o, _ in pairs], [args[k] for k in want],
                            [g for _, g in pairs], create_graph=True, allow_unused=True)
        out = [None] * len(saved)
        for k, r in zip(want, res):
            out[k] = r if r is not None else args[k] * 0
        return tuple(out)


# -- LSTM -----------------------------------------------------------------------------------------
class LstmLayer(_Layer):
    """One LSTM layer, one direction: gates i, f, g, o (PyTorch's order in the weights),
    c' = f·c + i·g, h' = o·tanh(c') (then h' W_hrᵀ with a projection)."""

    name_ = "MkldnnRnnLayerBackward0"
    formula = {
        "input": "dG @ W_ih, with dG the gate gradients of every step (BPTT)",
        "hx": "dh flowing out of the first step", "cx": "dc flowing out of the first step",
        "w_ih": "dGᵀ @ input", "w_hh": "dGᵀ @ h_prev", "b_ih": "dG.sum(0)", "b_hh": "dG.sum(0)",
        "w_hr": "dhᵀ @ (o·tanh(c))",
    }
    _nout = 3
    __slots__ = ()

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
        xp = array_module(x)
        lead = x.shape[:-1]
        x = x.reshape(-1, x.shape[-1])
        H = c0.shape[1]
        P = w_hh.shape[1]
        n_rows = x.shape[0]
        H2, H3 = 2 * H, 3 * H
        # The forward weights of the sigmoid gates (i, f, o) are negated (exact), so that a
        # step's pre-activations z' = -z give sigmoid(z) = 1 / (1 + exp(z')) in three
        # whole-row operations; the g gate's tanh then overwrites its block.
        sign = xp.ones((4 * H, 1), x.dtype)
        sign[:H2] = -1
        sign[H3:] = -1
        # OpenBLAS is slower on a transposed operand: contiguous transposed copies
        whhT = xp.ascontiguousarray((w_hh * sign).T)
        Z = take((n_rows, 4 * H), x.dtype, xp)  # pre-activations (a temporary)
        xp.matmul(x, xp.ascontiguousarray((w_ih * sign).T), out=Z)
        if b_ih is not None:
            Z += (b_ih + b_hh) * sign[:, 0]
        A = take(Z.shape, x.dtype, xp)  # the gate activations of every step
        Y = xp.empty((n_rows, P), x.dtype)
        C = take((n_rows, H), x.dtype, xp)
        TC = take((n_rows, H), x.dtype, xp)
        R = take((n_rows, H), x.dtype, xp) if w_hr is not None else None
        whrT = xp.ascontiguousarray(w_hr.T) if w_hr is not None else None
        packed = self.batch_sizes is not None
        if packed:
            h_full, c_full = h0.copy(), c0.copy()
            HP = take((n_rows, P), x.dtype, xp)
            CP = take((n_rows, H), x.dtype, xp)
        h, c = h0, c0
        exp, tanh, multiply = xp.exp, xp.tanh, xp.multiply
        skip = not h0.any()  # a zero initial state (the default) adds nothing at the first step
        for lo, hi, bs in self._schedule(n_rows):
            if packed:
                h, c = h_full[:bs], c_full[:bs]
                HP[lo:hi] = h
                CP[lo:hi] = c
            z = Z[lo:hi]
            if skip:
                skip = False
            else:
                z += h @ whhT
            a = A[lo:hi]
            exp(z, out=a)  # NOTE: overflows to inf for a saturated gate: 1 / inf = 0, exact
            a += 1
            xp.reciprocal(a, out=a)
            tanh(z[:, H2:H3], out=a[:, H2:H3])
            cn = C[lo:hi]
            multiply(a[:, H:H2], c, out=cn)
            cn += a[:, :H] * a[:, H2:H3]
            tc = TC[lo:hi]
            tanh(cn, out=tc)
            hn = Y[lo:hi]
            if R is not None:
                r = R[lo:hi]
                multiply(a[:, H3:], tc, out=r)
                xp.matmul(r, whrT, out=hn)
            else:
                multiply(a[:, H3:], tc, out=hn)
            if packed:
                h_full[:bs] = hn
                c_full[:bs] = cn
            else:
                h, c = hn, cn
        give(Z)
        if packed:
            h_n, c_n = h_full, c_full
        else:
            h_n, c_n = h.copy(), c.copy()
            HP = CP = None
        saved = Saved((A, C, TC, R, HP, CP), (A, C, TC, R, HP, CP))
        return Y.reshape(lead + (P,)), h_n, c_n, saved

    def backward(self, dY, dhn, dcn):
        g0 = dY if dY is not None else dhn if dhn is not None else dcn
        if isinstance(g0, Tensor):
            return self._graph_backward((dY, dhn, dcn))
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, cache = self.saved(g0)
        G, C, TC, R, HP, CP = cache.arrays
        x_shape = x.shape
        x = x.reshape(-1, x_shape[-1])
        Y = self.result(g0)
        Y = Y.reshape(-1, Y.shape[-1])
        if dY is not None:
            dY = dY.reshape(Y.shape)
        xp = array_module(G)
        n_rows, H = C.shape
        P = Y.shape[1]
        B0 = h0.shape[0]
        temps = []  # temporaries, handed back to the pool at the end

        def get(shape, dtype):
            a = take(shape, dtype, xp)
            temps.append(a)
            return a

        if HP is None:  # padded layout: the previous states are the sequence shifted by a step
            HP = _prev_rows(Y, h0, self.batch, self.reverse, get(Y.shape, Y.dtype))
            CP = _prev_rows(C, c0, self.batch, self.reverse, get(C.shape, C.dtype))
        i, f, gg, o = G[:, :H], G[:, H:2 * H], G[:, 2 * H:3 * H], G[:, 3 * H:]
        # the elementwise factors of every step at once (vectorised over the whole sequence,
        # written in place: no temporaries)
        sub, mul = xp.subtract, xp.multiply
        A_c = get(C.shape, C.dtype)  # dc += dh_eff * A_c
        mul(TC, TC, out=A_c)
        sub(1, A_c, out=A_c)
        A_c *= o
        A_o = get(C.shape, C.dtype)  # d(o) = dh_eff * A_o
        sub(1, o, out=A_o)
        A_o *= o
        A_o *= TC
        A3 = get((n_rows, 3, H), C.dtype)  # d(i, f, g) = dc * A3
        a = A3[:, 0]
        sub(1, i, out=a)
        a *= i
        a *= gg
        a = A3[:, 1]
        sub(1, f, out=a)
        a *= f
        a *= CP
        a = A3[:, 2]
        mul(gg, gg, out=a)
        sub(1, a, out=a)
        a *= i
        dG = get(G.shape, G.dtype)
        dG4 = dG.reshape(n_rows, 4, H)
        dh_full = dhn.copy() if dhn is not None else xp.zeros((B0, P), G.dtype)
        dc_full = dcn.copy() if dcn is not None else xp.zeros((B0, H), G.dtype)
        dHs = get((n_rows, P), G.dtype) if w_hr is not None else None
        steps = self._schedule(n_rows)
        first = steps[0][0]
        h0_grad = self.next_functions[1][0] is not None
        for lo, hi, bs in reversed(steps):
            dh = dh_full[:bs]
            if dY is not None:
                dh = dh + dY[lo:hi]
            if dHs is not None:
                dHs[lo:hi] = dh
                dh = dh @ w_hr
            dc = dh * A_c[lo:hi]
            dc += dc_full[:bs]
            xp.multiply(dc[:, None, :], A3[lo:hi], out=dG4[lo:hi, :3])
            xp.multiply(dh, A_o[lo:hi], out=dG4[lo:hi, 3])
            xp.multiply(dc, f[lo:hi], out=dc_full[:bs])
            if lo != first or h0_grad:  # the first step's dh only reaches h0
                xp.matmul(dG[lo:hi], w_hh, out=dh_full[:bs])
        need = self.needs_input_grad
        dx = (dG @ w_ih).reshape(x_shape) if need[0] else None
        dw_ih = dG.T @ x if need[3] else None
        dw_hh = dG.T @ HP if need[4] else None
        db_ih = db_hh = dw_hr = None
        if b_ih is not None and (need[5] or need[6]):
            db = dG.sum(0)
            db_ih = db if need[5] else None
            db_hh = (db.copy() if db_ih is not None else db) if need[6] else None
        if w_hr is not None and need[7]:
            dw_hr = dHs.T @ R
        give(*temps)
        if not h0_grad:
            dh_full = None
        return (dx, dh_full, dc_full if need[2] else None, dw_ih, dw_hh, db_ih,
                db_hh, dw_hr, None)


# -- GRU ------------------------------------------------------------------------------------------
class GruLayer(_Layer):
    """One GRU layer, one direction: r, z, n as PyTorch: n = tanh(W_in x + b_in + r·(W_hn h +
    b_hn)), h' = (1 − z)·n + z·h."""

    name_ = "MkldnnRnnLayerBackward0"
    formula = {
        "input": "dGx @ W_ih, with dGx the gate gradients of every step (BPTT)",
        "hx": "dh flowing out of the first step", "w_ih": "dGxᵀ @ input",
        "w_hh": "dGhᵀ @ h_prev", "b_ih": "dGx.sum(0)", "b_hh": "dGh.sum(0)",
    }
    _nout = 2
    __slots__ = ()

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh):
        xp = array_module(x)
        lead = x.shape[:-1]
        x = x.reshape(-1, x.shape[-1])
        H = h0.shape[1]
        n_rows = x.shape[0]
        G = take((n_rows, w_ih.shape[0]), x.dtype, xp)  # r, z, n (then their activations)
        xp.matmul(x, xp.ascontiguousarray(w_ih.T), out=G)
        if b_ih is not None:
            G += b_ih
            G[:, :2 * H] += b_hh[:2 * H]  # r and z take both biases; b_hn sits inside r·(...)
            b_hn = b_hh[2 * H:]
        whhT = xp.ascontiguousarray(w_hh.T)
        Y = xp.empty((n_rows, H), x.dtype)
        GHN = take((n_rows, H), x.dtype, xp)
        packed = self.batch_sizes is not None
        if packed:
            h_full = h0.copy()
            HP = take((n_rows, H), x.dtype, xp)
        h = h0
        H2 = 2 * H
        for lo, hi, bs in self._schedule(n_rows):
            if packed:
                h = h_full[:bs]
                HP[lo:hi] = h
            g = G[lo:hi]
            gh = h @ whhT
            rz = g[:, :H2]
            rz += gh[:, :H2]
            _sigmoid_(rz)
            ghn = GHN[lo:hi]
            if b_ih is not None:
                xp.add(gh[:, H2:], b_hn, out=ghn)
            else:
                ghn[...] = gh[:, H2:]
            n = g[:, H2:]
            n += g[:, :H] * ghn
            xp.tanh(n, out=n)
            hn = Y[lo:hi]
            xp.subtract(h, n, out=hn)
            hn *= g[:, H:H2]
            hn += n
            if packed:
                h_full[:bs] = hn
            else:
                h = hn
        if packed:
            h_n = h_full
        else:
            h_n = h.copy()
            HP = None
        return Y.reshape(lead + (H,)), h_n, Saved((G, GHN, HP), (G, GHN, HP))

    def backward(self, dY, dhn):
        g0 = dY if dY is not None else dhn
        if isinstance(g0, Tensor):
            return self._graph_backward((dY, dhn))
        x, h0, w_ih, w_hh, b_ih, b_hh, cache = self.saved(g0)
        G, GHN, HP = cache.arrays
        x_shape = x.shape
        x = x.reshape(-1, x_shape[-1])
        Y = self.result(g0)
        Y = Y.reshape(-1, Y.shape[-1])
        if dY is not None:
            dY = dY.reshape(Y.shape)
        xp = array_module(G)
        n_rows, H = Y.shape
        temps = []

        def get(shape):
            a = take(shape, G.dtype, xp)
            temps.append(a)
            return a

        if HP is None:
            HP = _prev_rows(Y, h0, self.batch, self.reverse, get(Y.shape))
        r, z, n = G[:, :H], G[:, H:2 * H], G[:, 2 * H:]
        sub, mul = xp.subtract, xp.multiply
        A_n = get((n_rows, H))  # dn_pre = dh * A_n, A_n = (1 - z)(1 - n²)
        mul(n, n, out=A_n)
        sub(1, A_n, out=A_n)
        tmp = get((n_rows, H))
        sub(1, z, out=tmp)
        A_n *= tmp
        A_r = get((n_rows, H))  # dr_pre = dn_pre * A_r, A_r = ghn · r(1 - r)
        sub(1, r, out=A_r)
        A_r *= r
        A_r *= GHN
        A_z = get((n_rows, H))  # dz_pre = dh * A_z, A_z = (h_prev - n) · z(1 - z)
        sub(HP, n, out=A_z)
        A_z *= z
        A_z *= tmp
        dGh = get((n_rows, 3 * H))  # gradient of W_hh h + b_hh
        DN = get((n_rows, H))  # gradient of the n pre-activation (input side)
        dh_full = dhn.copy() if dhn is not None else xp.zeros_like(h0)
        for lo, hi, bs in reversed(self._schedule(n_rows)):
            dh = dh_full[:bs]
            if dY is not None:
                dh = dh + dY[lo:hi]
            dnp = DN[lo:hi]
            mul(dh, A_n[lo:hi], out=dnp)
            mul(dnp, A_r[lo:hi], out=dGh[lo:hi, :H])
            mul(dh, A_z[lo:hi], out=dGh[lo:hi, H:2 * H])
            mul(dnp, r[lo:hi], out=dGh[lo:hi, 2 * H:])
            back = dGh[lo:hi] @ w_hh
            mul(dh, z[lo:hi], out=dh_full[:bs])
            dh_full[:bs] += back
        dGx = get(dGh.shape)
        dGx[:, :2 * H] = dGh[:, :2 * H]
        dGx[:, 2 * H:] = DN
        need = self.needs_input_grad
        dx = (dGx @ w_ih).reshape(x_shape) if need[0] else None
        dw_ih = dGx.T @ x if need[2] else None
        dw_hh = dGh.T @ HP if need[3] else None
        db_ih = dGx.sum(0) if b_ih is not None and need[4] else None
        db_hh = dGh.sum(0) if b_ih is not None and need[5] else None
        give(*temps)
        return (dx, dh_full, dw_ih, dw_hh, db_ih, db_hh, None)


# -- Elman RNN ------------------------------------------------------------------------------------
class RnnLayer(_Layer):
    """One tanh or ReLU RNN layer, one direction: h' = act(W_ih x + b_ih + W_hh h + b_hh)."""

    name_ = "MkldnnRnnLayerBackward0"
    formula = {
        "input": "dG @ W_ih, with dG = dh·act'(h) at every step (BPTT)",
        "hx": "dh flowing out of the first step", "w_ih": "dGᵀ @ input",
        "w_hh": "dGᵀ @ h_prev", "b_ih": "dG.sum(0)", "b_hh": "dG.sum(0)",
    }
    _nout = 2
    __slots__ = ()

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh):
        xp = array_module(x)
        lead = x.shape[:-1]
        x = x.reshape(-1, x.shape[-1])
        n_rows = x.shape[0]
        G = x @ xp.ascontiguousarray(w_ih.T)  # becomes the output sequence, in place
        if b_ih is not None:
            G += b_ih + b_hh
        whhT = xp.ascontiguousarray(w_hh.T)
        relu = self.mode == "RNN_RELU"
        packed = self.batch_sizes is not None
        if packed:
            h_full = h0.copy()
            HP = take(G.shape, G.dtype, xp)
        h = h0
        for lo, hi, bs in self._schedule(n_rows):
            if packed:
                h = h_full[:bs]
                HP[lo:hi] = h
            g = G[lo:hi]
            g += h @ whhT
            if relu:
                xp.maximum(g, 0, out=g)
            else:
                xp.tanh(g, out=g)
            if packed:
                h_full[:bs] = g
            else:
                h = g
        if packed:
            h_n = h_full
        else:
            h_n = h.copy()
            HP = None
        return G.reshape(lead + G.shape[-1:]), h_n, Saved((HP,), (HP,))

    def backward(self, dY, dhn):
        g0 = dY if dY is not None else dhn
        if isinstance(g0, Tensor):
            return self._graph_backward((dY, dhn))
        x, h0, w_ih, w_hh, b_ih, b_hh, cache = self.saved(g0)
        (HP,) = cache.arrays
        x_shape = x.shape
        x = x.reshape(-1, x_shape[-1])
        Y = self.result(g0)
        Y = Y.reshape(-1, Y.shape[-1])
        if dY is not None:
            dY = dY.reshape(Y.shape)
        xp = array_module(Y)
        n_rows = Y.shape[0]
        temps = []
        if HP is None:
            HP = _prev_rows(Y, h0, self.batch, self.reverse, take(Y.shape, Y.dtype, xp))
            temps.append(HP)
        A = take(Y.shape, Y.dtype, xp)  # the activation's derivative at every step
        if self.mode == "RNN_RELU":
            # NOTE: PyTorch's ReLU backward passes the gradient where the output is > 0
            xp.greater(Y, 0, out=A)
        else:
            xp.multiply(Y, Y, out=A)
            xp.subtract(1, A, out=A)
        dG = take(Y.shape, Y.dtype, xp)
        temps += [A, dG]
        dh_full = dhn.copy() if dhn is not None else xp.zeros_like(h0)
        for lo, hi, bs in reversed(self._schedule(n_rows)):
            dh = dh_full[:bs]
            if dY is not None:
                dh = dh + dY[lo:hi]
            xp.multiply(dh, A[lo:hi], out=dG[lo:hi])
            xp.matmul(dG[lo:hi], w_hh, out=dh_full[:bs])
        need = self.needs_input_grad
        dx = (dG @ w_ih).reshape(x_shape) if need[0] else None
        dw_ih = dG.T @ x if need[2] else None
        dw_hh = dG.T @ HP if need[3] else None
        db = dG.sum(0) if b_ih is not None and (need[4] or need[5]) \
            else None
        db_ih = db if need[4] else None
        db_hh = (db.copy() if db_ih is not None else db) if db is not None and \
            need[5] else None
        give(*temps)
        return (dx, dh_full, dw_ih, dw_hh, db_ih, db_hh, None)


class LstmCellNode(LstmLayer):
    """``nn.LSTMCell`` / ``lstm_cell``: the layer node for one step (PyTorch's fused cell)."""

    name_ = "ThnnFusedLstmCellBackward0"
    __slots__ = ()


class GruCellNode(GruLayer):
    """``nn.GRUCell`` / ``gru_cell``: the layer node for one step (PyTorch's fused cell)."""

    name_ = "ThnnFusedGruCellBackward0"
    __slots__ = ()


_LAYERS = {"LSTM": LstmLayer, "GRU": GruLayer, "RNN_TANH": RnnLayer, "RNN_RELU": RnnLayer}


def _run(cls, mode: str, args: list, batch_sizes, reverse: bool, batch: int) -> list:
    """Run a layer node on Tensors ``args`` (None where absent); record it when needed."""
    fn = _new(cls)
    x = args[0]
    fn.n_steps = (x.shape[0] if x.dim() == 3 else 1) if batch_sizes is None else \
        len(batch_sizes)
    fn.mode = mode
    fn.reverse = reverse
    fn.batch_sizes = batch_sizes
    fn.batch = batch
    raw = [a._data if a is not None else None for a in args]
    *outs, cache = fn.forward(*raw)
    if not state.enabled or not any(a is not None and a._rg for a in args):
        return [_wrap(o) for o in outs]
    t0 = record(fn, (*args, cache), outs[0])
    res = [t0]
    for k, o in enumerate(outs[1:], 1):
        t = _wrap(o)
        t._rg = True
        t.grad_fn = fn
        t._out_nr = k
        res.append(t)
    return res


def rnn_layer(mode: str, input: Tensor, hx: Tensor, cx: Tensor | None, w_ih: Tensor,
              w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, w_hr: Tensor | None = None,
              batch_sizes=None, reverse: bool = False) -> list:
    """One recurrent layer, one direction, as one node: ``[output, h_n(, c_n)]``.

    ``input`` is (T, B, I) (or packed data (N, I) with ``batch_sizes``); ``hx``/``cx`` are
    (B, ·); for LSTM ``mode`` the cell state ``cx`` is required. Arguments are trusted (the
    modules check them).

    >>> import leafgrad
    >>> x, h = leafgrad.ones(2, 1, 3), leafgrad.zeros(1, 2)
    >>> w_ih, w_hh = leafgrad.full((2, 3), 0.1), leafgrad.full((2, 2), 0.1)
    >>> rnn_layer("RNN_TANH", x, h, None, w_ih, w_hh, None, None)[1]
    tensor([[0.3437, 0.3437]])
    """
    B = input.shape[1] if batch_sizes is None else int(batch_sizes[0])
    cls = _LAYERS[mode]
    args = [input, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr] if mode == "LSTM" else \
        [input, hx, w_ih, w_hh, b_ih, b_hh]
    outs = _run(cls, mode, args, batch_sizes, reverse, B)
    return outs


def rnn(mode: str, input: Tensor, batch_sizes, hx: Tensor, cx: Tensor | None,
        weights: list, has_biases: bool, num_layers: int, dropout: float, train: bool,
        bidirectional: bool) -> tuple:
    """A stack of recurrent layers (PyTorch's ``_VF.lstm`` / ``gru`` / ``rnn_tanh`` /
    ``rnn_relu``): ``(output, h_n, c_n)``, c_n None unless LSTM.

    ``input`` is time-major (T, B, I), or packed data with ``batch_sizes``; ``hx`` / ``cx``
    are (layers · directions, B, ·); ``weights`` the module's ``_flat_weights``. Dropout is
    applied to each layer's output but the last, drawn as ``F.dropout`` draws it.

    >>> import leafgrad
    >>> w = [leafgrad.full((2, 3), 0.1), leafgrad.full((2, 2), 0.1)]
    >>> out, h, _ = rnn("RNN_TANH", leafgrad.ones(2, 1, 3), None, leafgrad.zeros(1, 1, 2),
    ...                 None, w, False, 1, 0.0, False, False)
    >>> h
    tensor([[[0.3437, 0.3437]]])
    """
    from ..methods.shape import cat, stack
    from .dropout import dropout as _dropout

    lstm = mode == "LSTM"
    nd = 2 if bidirectional else 1
    per = len(weights) // (num_layers * nd)
    proj = per in (3, 5)  # (w_ih, w_hh[, b_ih, b_hh], w_hr)
    hs = hx.unbind(0)
    cs = cx.unbind(0) if lstm else None
    h_out, c_out = [], []
    layer_input = input
    for layer in range(num_layers):
        outs = []
        for d in range(nd):
            k = layer * nd + d
            w = weights[k * per:(k + 1) * per]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            res = rnn_layer(mode, layer_input, hs[k], cs[k] if lstm else None, w[0], w[1], b_ih,
                            b_hh, w[-1] if proj else None, batch_sizes, reverse=d == 1)
            outs.append(res[0])
            h_out.append(res[1])
            if lstm:
                c_out.append(res[2])
        layer_input = outs[0] if nd == 1 else cat(outs, -1)
        if dropout and train and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout, True)
    return layer_input, stack(h_out, 0), stack(c_out, 0) if lstm else None


def lstm_cell(input: Tensor, hx: Tensor, cx: Tensor, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple:
    """One LSTM step on (B, I) input and (B, H) states, as one node: ``(h', c')``.

    >>> import leafgrad
    >>> w = leafgrad.full((8, 3), 0.1); u = leafgrad.full((8, 2), 0.1)
    >>> lstm_cell(leafgrad.ones(1, 3), leafgrad.zeros(1, 2), leafgrad.zeros(1, 2), w, u)[1]
    tensor([[0.1673, 0.1673]])
    """
    y, _, c = _run(LstmCellNode, "LSTM", [input, hx, cx, w_ih, w_hh, b_ih, b_hh, None],
                   None, False, input.shape[0])
    return y, c


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step on (B, I) input and a (B, H) state, as one node: ``h'``.

    >>> import leafgrad
    >>> w = leafgrad.full((6, 3), 0.1); u = leafgrad.full((6, 2), 0.1)
    >>> gru_cell(leafgrad.ones(1, 3), leafgrad.zeros(1, 2), w, u)
    tensor([[0.1240, 0.1240]])
    """
    return _run(GruCellNode, "GRU", [input, hx, w_ih, w_hh, b_ih, b_hh], None, False,
                input.shape[0])[0]


# -- the same layers from core ops (create_graph backward; a reference for the tests) ------------
def composite_layer(mode: str, args: list, batch_sizes, reverse: bool, batch: int,
                    n_steps: int) -> list:
    """A layer computed step by step from differentiable core ops, on the fused node's
    arguments (``x`` as 2-D rows of the packed layout): ``[output rows, h_n(, c_n)]``."""
    from ..methods.shape import cat
    from .linear import linear

    lstm = mode == "LSTM"
    if lstm:
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = args
    else:
        x, h0, w_ih, w_hh, b_ih, b_hh = args
        c0 = w_hr = None
    H = w_hh.shape[1] if w_hr is None else w_hr.shape[1]
    lead = tuple(x.shape[:-1])
    x = x.reshape(-1, x.shape[-1])
    gx = linear(x, w_ih, b_ih)
    outs = {}
    h, c = h0, c0
    for lo, hi, bs in _steps(n_steps, batch, batch_sizes, reverse):
        hp = h[:bs]
        gh = linear(hp, w_hh, b_hh)
        g = gx[lo:hi]
        if lstm:
            gates = g + gh
            i, f = gates[:, :H].sigmoid(), gates[:, H:2 * H].sigmoid()
            gg, o = gates[:, 2 * H:3 * H].tanh(), gates[:, 3 * H:].sigmoid()
            cn = f * c[:bs] + i * gg
            hn = o * cn.tanh()
            if w_hr is not None:
                hn = linear(hn, w_hr)
            c = cn if bs == c.shape[0] else cat([cn, c[bs:]], 0)
        elif mode == "GRU":
            r = (g[:, :H] + gh[:, :H]).sigmoid()
            z = (g[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
            n = (g[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
            hn = (1 - z) * n + z * hp
        else:
            pre = g + gh
            hn = pre.relu() if mode == "RNN_RELU" else pre.tanh()
        outs[lo] = hn
        h = hn if bs == h.shape[0] else cat([hn, h[bs:]], 0)
    y = cat([outs[lo] for lo in sorted(outs)], 0)
    y = y.reshape(*lead, y.shape[-1])
    return [y, h, c] if lstm else [y, h]


FORMULA_HELPERS: dict = {}
