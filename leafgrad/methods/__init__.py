"""Tensor methods by area, mixed into ``Tensor``; each area also holds its free functions."""
