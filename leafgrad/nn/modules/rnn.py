"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, as PyTorch defines them
(parameter names and shapes, gate order, initialisation draws, output shapes, errors).

Each layer and direction runs as one fused node (``leafgrad/ops/rnn.py``); the modules check
their arguments, arrange hidden states, unbatched and batch-first inputs and packed sequences.
"""

from __future__ import annotations

import math
import numbers
import warnings
import weakref

from ...creation import empty, zeros
from ...ops import rnn as _rnn
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _apply_permutation(tensor: Tensor, permutation: Tensor, dim: int = 1) -> Tensor:
    return tensor.index_select(dim, permutation)


class RNNBase(Module):
    """Base of RNN, LSTM and GRU: the parameters of every layer and direction
    (``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``,
    ``weight_hr_l{k}``), registered and initialised in PyTorch's order.

    >>> import leafgrad
    >>> [n for n, _ in RNNBase("GRU", 3, 4).named_parameters()]
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
    """

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self._flat_weight_refs: list = []
        num_directions = 2 if bidirectional else 1
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                "dropout expects num_layers greater than 1, but got "
                f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int),
                                  ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                                f"{type(value).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        kw = {"device": device, "dtype": dtype}
        self._flat_weights_names: list = []
        self._all_weights: list = []
        real_hidden = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                params = [Parameter(empty((gate_size, layer_input), **kw)),
                          Parameter(empty((gate_size, real_hidden), **kw))]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    params += [Parameter(empty(gate_size, **kw)),
                               Parameter(empty(gate_size, **kw))]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    params.append(Parameter(empty((proj_size, hidden_size), **kw)))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, param in zip(names, params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self._init_flat_weights()
        self.reset_parameters()

    def _init_flat_weights(self) -> None:
        self._flat_weights = [getattr(self, wn) if hasattr(self, wn) else None
                              for wn in self._flat_weights_names]
        self._flat_weight_refs = [weakref.ref(w) if w is not None else None
                                  for w in self._flat_weights]
        self.flatten_parameters()

    def __setattr__(self, attr, value) -> None:
        if hasattr(self, "_flat_weights_names") and attr in self._flat_weights_names:
            # keep _flat_weights in step when a weight is replaced
            self._flat_weights[self._flat_weights_names.index(attr)] = value
        super().__setattr__(attr, value)

    def flatten_parameters(self) -> None:
        """A no-op: PyTorch packs the weights into one cuDNN buffer here; leafgrad's layers use
        the parameters as they are."""

    def _apply(self, fn, recurse=True):
        self._flat_weight_refs = []
        ret = super()._apply(fn, recurse)
        self._init_flat_weights()
        return ret

    def reset_parameters(self) -> None:
        """Every parameter uniform in ±1/√hidden_size, in registration order (PyTorch's
        draws)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    # -- argument checks (PyTorch's messages, with the reason) ---------------------------------
    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:
        """Dtype, rank and feature size of the input."""
        w = self._flat_weights[0]
        if input.dtype != w.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). "
                f"Convert input: input.to({w.dtype}), or convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got "
                               f"{input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{input.size(-1)}\nWhy: the last dim of the input holds the features of one "
                f"step, and this layer was built with input_size={self.input_size}.")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple:
        """(layers · directions, batch, hidden or proj size)."""
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx: Tensor, expected_hidden_size: tuple,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        """Raise PyTorch's error when ``hx`` is not shaped as expected."""
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(
                msg.format(tuple(expected_hidden_size), list(hx.size())) + "\nWhy: the state "
                "holds one row per sequence of the batch for every layer and direction: "
                "(num_layers * num_directions, batch, hidden); batch_first does not apply to it.")
        if hx.dtype != self._flat_weights[0].dtype:
            raise RuntimeError(
                f"Expected the hidden state to have dtype {self._flat_weights[0].dtype}, got "
                f"{hx.dtype}\nWhy: the recurrence multiplies it with the weights; convert it "
                "with .to(dtype).")

    def _weights_have_changed(self) -> bool:
        for ref, name in zip(self._flat_weight_refs, self._flat_weights_names):
            weight = getattr(self, name) if hasattr(self, name) else None
            if weight is not None and ref is not None and ref() is not weight:
                return True
        return False

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes) -> None:
        """Check the input and the hidden state together."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Tensor, permutation: Tensor | None):
        """Reorder the batch of a hidden state (packed sequences sorted by length)."""
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _update_flat_weights(self) -> None:
        if self._weights_have_changed():
            self._init_flat_weights()

    def __getstate__(self):
        self._update_flat_weights()
        state = self.__dict__.copy()
        del state["_flat_weight_refs"]
        return state

    def __setstate__(self, d) -> None:
        super().__setstate__(d)
        if "all_weights" in d:
            self._all_weights = d["all_weights"]
        if "proj_size" not in d:
            self.proj_size = 0
        self._flat_weights = [getattr(self, wn) if hasattr(self, wn) else None
                              for wn in self._flat_weights_names]
        self._flat_weight_refs = [weakref.ref(w) if w is not None else None
                                  for w in self._flat_weights]

    @property
    def all_weights(self) -> list:
        """The parameters, one list per layer and direction."""
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    def _replicate_for_data_parallel(self):
        replica = super()._replicate_for_data_parallel()
        replica._flat_weights = replica._flat_weights[:]
        replica._flat_weights_names = replica._flat_weights_names[:]
        return replica

    # -- the forward pass shared by RNN, LSTM and GRU --------------------------------------------
    def _run(self, input, hx, lstm: bool):
        self._update_flat_weights()
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        orig_input = input
        name = type(self).__name__ if type(self).__name__ in ("LSTM", "GRU") else "RNN"
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            max_batch = int(batch_sizes[0])
            is_batched = True
            if hx is not None:
                hx = self.permute_hidden(hx, sorted_indices)
        else:
            batch_sizes = sorted_indices = unsorted_indices = None
            if input.dim() not in (2, 3):
                what = "D tensor instead" if name == "RNN" else "D instead"
                raise ValueError(
                    f"{name}: Expected input to be 2D or 3D, got {input.dim()}{what}\nWhy: the "
                    "input is (seq_len, batch, features), (batch, seq_len, features) with "
                    "batch_first=True, or (seq_len, features) for one unbatched sequence.")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if hx is not None:
                dims = (hx[0].dim(), hx[1].dim()) if lstm else (hx.dim(),)
                want = 3 if is_batched else 2
                if any(d != want for d in dims):
                    kind = "batched 3-D" if is_batched else "unbatched 2-D"
                    got = f"({dims[0]}-D, {dims[1]}-D) tensors" if lstm else f"{dims[0]}-D tensor"
                    what = "hx and cx" if lstm else "hx"
                    raise RuntimeError(
                        f"For {kind} input, {what} should also be {want}-D but got {got}\nWhy: "
                        "the state has a (layers * directions) dim, then the batch dim when the "
                        "input has one, then the hidden size.")
            if not is_batched:
                input = input.unsqueeze(batch_dim)
                if hx is not None:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if lstm else hx.unsqueeze(1)
            max_batch = input.size(0) if self.batch_first else input.size(1)
        if hx is None:
            h_zeros = zeros(self.num_layers * num_directions, max_batch, real_hidden,
                            dtype=input.dtype, device=input.device)
            if lstm:
                hx = (h_zeros, zeros(self.num_layers * num_directions, max_batch,
                                     self.hidden_size, dtype=input.dtype, device=input.device))
            else:
                hx = h_zeros
        self.check_forward_args(input, hx, batch_sizes)
        if isinstance(orig_input, PackedSequence):
            pass
        elif input.size(0 if not self.batch_first else 1) == 0:
            raise RuntimeError(
                "Expected sequence length to be larger than 0 in RNN\nWhy: a sequence with no "
                "step has no output and no final state.")
        if batch_sizes is None and self.batch_first:
            input = input.transpose(0, 1)
        h0, c0 = hx if lstm else (hx, None)
        output, h_n, c_n = _rnn.rnn(self.mode, input, batch_sizes, h0, c0, self._flat_weights,
                                    self.bias, self.num_layers, self.dropout, self.training,
                                    self.bidirectional)
        if batch_sizes is None and self.batch_first:
            output = output.transpose(0, 1)
        hidden = (h_n, c_n) if lstm else h_n
        if isinstance(orig_input, PackedSequence):
            return (PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices),
                    self.permute_hidden(hidden, unsorted_indices))
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1)) if lstm else hidden.squeeze(1)
        return output, hidden


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (or ReLU), stacked and
    optionally bidirectional; returns ``(output, h_n)``.

    >>> import leafgrad
    >>> _ = leafgrad.manual_seed(0); rnn = RNN(3, 4, num_layers=2); rnn
    RNN(3, 4, num_layers=2)
    >>> out, h = rnn(leafgrad.ones(5, 2, 3)); tuple(out.shape), tuple(h.shape)
    ((5, 2, 4), (2, 2, 4))
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx: Tensor | None = None):
        return self._run(input, hx, lstm=False)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o (in this order in the weights),
    c_t = f·c_{t−1} + i·g, h_t = o·tanh(c_t) (projected by W_hr with ``proj_size``);
    returns ``(output, (h_n, c_n))``.

    >>> import leafgrad
    >>> _ = leafgrad.manual_seed(0); lstm = LSTM(3, 4, batch_first=True)
    >>> out, (h, c) = lstm(leafgrad.ones(2, 5, 3)); tuple(out.shape), tuple(h.shape)
    ((2, 5, 4), (1, 2, 4))
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple:
        """(layers · directions, batch, hidden size): the cell state is never projected."""
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden: tuple, batch_sizes) -> None:
        """Check the input, h_0 and c_0."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx: tuple, permutation: Tensor | None) -> tuple:
        """Reorder the batch of (h, c)."""
        if permutation is None:
            return hx
        return _apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation)

    def forward(self, input, hx: tuple | None = None):
        return self._run(input, hx, lstm=True)


class GRU(RNNBase):
    """Gated recurrent unit: r, z, n with n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
    h_t = (1 − z)·n + z·h_{t−1}; returns ``(output, h_n)``.

    >>> import leafgrad
    >>> _ = leafgrad.manual_seed(0); gru = GRU(3, 4, bidirectional=True)
    >>> out, h = gru(leafgrad.ones(5, 3)); tuple(out.shape), tuple(h.shape)
    ((5, 8), (2, 4))
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx: Tensor | None = None):
        return self._run(input, hx, lstm=False)


# -- cells --------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Base of the one-step cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``.

    >>> [n for n, _ in RNNCellBase(3, 4, True, 2).named_parameters()]
    ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']
    """

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        """Every parameter uniform in ±1/√hidden_size (PyTorch's draws)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input: Tensor, hx, name: str, n_states: int):
        """Check and batch (input, states); returns (input, states, is_batched)."""
        if input.dim() not in (1, 2):
            raise ValueError(
                f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead\nWhy: a "
                "cell takes one step: (batch, features) or (features,).")
        states = None if hx is None else (list(hx) if n_states == 2 else [hx])
        if states is not None:
            for s in states:
                if s.dim() not in (1, 2):
                    raise ValueError(
                        f"{name}: Expected hidden to be 1D or 2D, got {s.dim()}D instead\nWhy: "
                        "the state of a cell is (batch, hidden) or (hidden,).")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if states is None:
            states = [zeros(input.size(0), self.hidden_size, dtype=input.dtype,
                            device=input.device) for _ in range(n_states)]
        elif not is_batched:
            states = [s.unsqueeze(0) for s in states]
        if input.size(1) != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.size(1)} expected "
                f"{self.input_size}\nWhy: the cell was built with input_size="
                f"{self.input_size}.")
        for k, s in enumerate(states):
            if s.size(0) != input.size(0):
                raise RuntimeError(
                    f"Input batch size {input.size(0)} doesn't match hidden{k} batch size "
                    f"{s.size(0)}\nWhy: the state holds one row per input row.")
            if s.size(1) != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {s.size(1)}, expected "
                    f"{self.hidden_size}\nWhy: the cell was built with hidden_size="
                    f"{self.hidden_size}.")
        w = self.weight_ih
        for t in [input, *states]:
            if t.dtype != w.dtype:
                raise RuntimeError(
                    f"mat1 and mat2 must have the same dtype, but got {_dt(t)} and {_dt(w)}\n"
                    "Why: the cell multiplies its input and state with its weights; convert one "
                    "(x.float(), cell.double()).")
        return input, states, is_batched


def _dt(t: Tensor) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
        t.dtype.name, t.dtype.name)


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or ReLU).

    >>> import leafgrad
    >>> _ = leafgrad.manual_seed(0); RNNCell(3, 4)(leafgrad.ones(2, 3)).shape
    torch.Size([2, 4])
    """

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        from ...ops.linear import linear

        input, (h,), is_batched = self._prepare(input, hx, "RNNCell", 1)
        pre = linear(input, self.weight_ih, self.bias_ih) + linear(h, self.weight_hh,
                                                                    self.bias_hh)
        if self.nonlinearity == "tanh":
            ret = pre.tanh()
        elif self.nonlinearity == "relu":
            ret = pre.relu()
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step on ``(h, c)``: returns ``(h', c')`` (one fused node).

    >>> import leafgrad
    >>> _ = leafgrad.manual_seed(0); h, c = LSTMCell(3, 4)(leafgrad.ones(2, 3)); h.shape
    torch.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        input, (h, c), is_batched = self._prepare(input, hx, "LSTMCell", 2)
        hy, cy = _rnn.lstm_cell(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih,
                                self.bias_hh)
        return (hy, cy) if is_batched else (hy.squeeze(0), cy.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: returns h' (one fused node).

    >>> import leafgrad
    >>> _ = leafgrad.manual_seed(0); GRUCell(3, 4)(leafgrad.ones(3)).shape
    torch.Size([4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), is_batched = self._prepare(input, hx, "GRUCell", 1)
        ret = _rnn.gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return ret if is_batched else ret.squeeze(0)
