"""Narrative strings, one module per language (``en``, ``zh``), looked up by key."""

from __future__ import annotations

import importlib

LANGS = ("en", "zh")


def strings(lang: str = "en") -> dict[str, str]:
    """The narrative templates of ``lang`` (``"en"`` or ``"zh"``).

    >>> strings("en")["leaf_word"]
    'leaf'
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; leafgrad narrates in {', '.join(LANGS)}")
    mod = importlib.import_module(f"{__name__}.{lang}")
    return mod.STRINGS


def op_notes(lang: str = "en") -> dict[str, str]:
    """What each non-elementwise node does to the gradient, in ``lang``, keyed by node name.

    >>> "SumBackward0" in op_notes("zh")
    True
    """
    strings(lang)  # validates lang
    return importlib.import_module(f"{__name__}.{lang}").OP_NOTES


def module_notes(lang: str = "en") -> dict[str, str]:
    """What each kind of module's backward computes, in ``lang``, keyed by class name.

    >>> "∂" in module_notes("en")["Linear"]
    True
    """
    strings(lang)
    return importlib.import_module(f"{__name__}.{lang}").MODULE_NOTES
