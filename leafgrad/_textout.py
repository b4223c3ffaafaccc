"""ASCII stand-ins for the symbols the narration prints, for terminals that cannot show them.

The tour and ``explain`` write ∂, →, subscripts and box-drawing characters. Where stdout's
encoding cannot represent them (a cp1252 console, ``PYTHONIOENCODING=ascii``, output piped under
an ASCII locale), printing would raise ``UnicodeEncodeError``; :func:`ascii_fallback` installs a
codec error handler that writes ``d`` for ∂, ``->`` for →, ``x_1`` for x₁ and so on instead.
"""

from __future__ import annotations

import codecs
import sys
import unicodedata

ERRORS = "leafgrad-ascii"

_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉₋ᵢⱼₖ", "0123456789-ijk")
_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ", "0123456789-T")
_WORDS = {
    "∂": "d", "→": "->", "←": "<-", "·": "*", "×": "*", "…": "...", "—": "--", "–": "-",
    "“": '"', "”": '"', "‘": "'", "’": "'", "σ": "sigma", "Σ": "sum", "√": "sqrt", "∑": "sum",
    "≈": "~=", "≠": "!=", "≤": "<=", "≥": ">=", "∞": "inf", "−": "-", "∇": "grad", "⊙": "*",
    "─": "-", "│": "|", "└": "`", "├": "|", "┌": "+", "┐": "+", "┘": "+", "┬": "+", "┴": "+",
    "┼": "+", "▶": ">", "◀": "<", "•": "*", "✓": "ok", "✗": "x",
}


def _stand_in(ch: str) -> str:
    if ch in _WORDS:
        return _WORDS[ch]
    sub = ch.translate(_SUB)
    if sub != ch:
        return "_" + sub
    sup = ch.translate(_SUP)
    if sup != ch:
        return "^" + sup
    plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    return plain or "?"


def _handler(err: UnicodeError):
    if not isinstance(err, UnicodeEncodeError):
        raise err
    bad = err.object[err.start:err.end]
    return "".join(_stand_in(c) for c in bad), err.end


codecs.register_error(ERRORS, _handler)


def ascii_safe(text: str) -> str:
    """``text`` with every non-ASCII character replaced by its stand-in.

    >>> ascii_safe("∂z/∂x₁ = 2·x₁ → AccumulateGrad")
    'dz/dx_1 = 2*x_1 -> AccumulateGrad'
    """
    return text.encode("ascii", ERRORS).decode("ascii")


def ascii_fallback(*streams) -> None:
    """Make text streams (default: stdout, stderr) write stand-ins for what they cannot encode.

    A stream whose encoding can represent the narration's symbols (UTF-8) is left alone.

    >>> ascii_fallback()  # a no-op on a UTF-8 terminal
    """
    for stream in streams or (sys.stdout, sys.stderr):
        enc = getattr(stream, "encoding", None)
        if not enc or not hasattr(stream, "reconfigure"):
            continue
        try:
            "∂→x₁".encode(enc)
        except UnicodeEncodeError:
            stream.reconfigure(errors=ERRORS)
        except LookupError:
            continue
