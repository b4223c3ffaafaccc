"""Differentiable ops: one small ``Op`` class per op, grouped by kind.

``elementwise``, ``reduce``, ``movement`` (shape, indexing, joining) and ``linalg`` are
packages; ``dual`` holds the helpers backward formulas use in both modes (arrays and Tensors),
``_apply`` runs and records an op, ``inplace_view`` rewrites history for in-place ops on views.
"""
