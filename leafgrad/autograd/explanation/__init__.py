"""A narrated backward pass: ``explain`` (text in English or Chinese, HTML), ``explaining``.

The numbers come from the stepper (``backward_steps``), which runs each node's backward exactly
as the engine would, without freeing or accumulating anything; this package turns its steps
into a teacher's narration (``forms``: names and local derivatives; ``narration``: the
``Explanation``), and captures the backward passes of running code (``capture``).
"""

from __future__ import annotations

from ..stepper import (
    _SUP,
    MAX_ELEMENTS,
    Snap,
    Step,
    _keys,
    _paren,
    _roots,
    _user_frame,
    _walk,
    backward_steps,
    fmt_array,
    fmt_num,
    fmt_shape,
    sub,
)
from .capture import (
    Recorder,
    _recorders,
    explaining,
)
from .forms import (
    _PREC_ATOM,
    _PREC_POW,
    _PREC_PROD,
    _PREC_SUM,
    _fmt_param,
    _formula_with,
    _Names,
    _params,
    _scalar_form,
    _tup,
    _wrap_prec,
    forward_expr,
    local_text,
    pow_local,
)
from .narration import (
    Explanation,
    _explain,
    _FakeLeaf,
    _fill,
    _hang,
    _readable,
    _render_text,
    _width,
    explain,
)

__all__ = [
    "Explanation", "Recorder", "Step", "backward_steps", "explain", "explaining",
]
