"""Tensor methods by area, mixed into ``Tensor``; each module also holds its free functions."""
