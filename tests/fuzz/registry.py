"""Which families a program's lines are drawn from, and how often."""

from .families import binary, creation, dim_op, op_row, out_arg, sample
from .family_autograd import backward, meta, saved_chain, view_chain
from .family_views import getitem, inplace, setitem, view

FAMILIES = (op_row, binary, dim_op, view, inplace, getitem, setitem, out_arg, creation, sample,
            backward, meta, view_chain, saved_chain)
WEIGHTS = (24, 7, 9, 11, 11, 5, 7, 3, 3, 1, 6, 2, 6, 5)
