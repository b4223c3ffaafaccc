"""``leafgrad.nn`` (PyTorch's ``torch.nn``): Module, Parameter, layers, functional, init."""

from . import functional, init  # isort: skip
from . import utils
from .modules import *  # noqa: F403 - modules/__init__.py lists every layer in __all__
from .modules import __all__ as _modules_all
from .modules.module import (
    register_module_backward_hook,
    register_module_buffer_registration_hook,
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
    register_module_module_registration_hook,
    register_module_parameter_registration_hook,
)
from .parallel import DataParallel, SyncBatchNorm  # also binds nn.parallel (DDP)
from .parameter import Buffer, Parameter

__all__ = [
    "functional", "init", "utils", "Parameter", "Buffer",
    "register_module_forward_pre_hook", "register_module_forward_hook",
    "register_module_full_backward_pre_hook", "register_module_full_backward_hook",
    "register_module_backward_hook", "register_module_buffer_registration_hook",
    "register_module_module_registration_hook", "register_module_parameter_registration_hook",
    *_modules_all,
]
