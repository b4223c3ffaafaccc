"""Differentiable ops: one small ``Op`` class per op, grouped by kind."""
