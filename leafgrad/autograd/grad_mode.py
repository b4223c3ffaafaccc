"""Grad modes (thread-local): no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import functools
import inspect
import threading


class _State(threading.local):
    # NOTE: PyTorch's grad mode is thread-local; a new thread starts with grad enabled.
    enabled = True
    inference = False


state = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd in this thread.

    >>> is_grad_enabled()
    True
    """
    return state.enabled


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode`` block is active in this thread.

    >>> is_inference_mode_enabled()
    False
    """
    return state.inference


class _DecoratorContextManager:
    """Base for grad-mode objects that work both as ``with`` blocks and as decorators."""

    def clone(self):
        return self.__class__()

    def __call__(self, func):
        if inspect.isclass(func):
            raise TypeError(f"{type(self).__name__} can decorate functions, not classes")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                # Re-enter the mode around every resume so code between yields runs under it.
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as e:  # noqa: BLE001 - forwarded to the generator
                            with self.clone():
                                response = gen.throw(e)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as e:
                    return e.value

            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_DecoratorContextManager):
    """Turn off recording of operations in this thread (a context manager and a decorator).

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True)
    >>> with no_grad():
    ...     (x * 2).requires_grad
    False
    """

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = False

    def __exit__(self, *exc) -> None:
        state.enabled = self.prev


class enable_grad(_DecoratorContextManager):
    """Turn recording back on inside a ``no_grad`` block (a context manager and a decorator).

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True)
    >>> with no_grad(), enable_grad():
    ...     (x * 2).requires_grad
    True
    """

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = True

    def __exit__(self, *exc) -> None:
        state.enabled = self.prev


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode on or off; takes effect at once, and as a context manager restores on exit.

    >>> _ = set_grad_enabled(False); is_grad_enabled()
    False
    >>> _ = set_grad_enabled(True); is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        self.prev = state.enabled
        self.mode = bool(mode)
        # NOTE: like PyTorch, calling set_grad_enabled(False) as a plain function switches at once
        state.enabled = self.mode

    def __enter__(self) -> None:
        state.enabled = self.mode

    def __exit__(self, *exc) -> None:
        state.enabled = self.prev

    def clone(self):
        return self.__class__(self.mode)

    def __call__(self, func):
        # used as a decorator: undo the immediate switch done by __init__
        state.enabled = self.prev
        return super().__call__(func)


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad``, for code that will never need gradients (``mode=False`` is a no-op).

    >>> import leafgrad
    >>> with inference_mode():
    ...     is_grad_enabled(), is_inference_mode_enabled()
    (False, True)
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self.prev = (True, False)

    def __call__(self, func=None):
        if func is None or isinstance(func, bool):
            return inference_mode(True if func is None else func)
        return super().__call__(func)

    def clone(self):
        return self.__class__(self.mode)

    def __enter__(self) -> None:
        self.prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled = False
            state.inference = True

    def __exit__(self, *exc) -> None:
        state.enabled, state.inference = self.prev


class _NoGrad:
    """Minimal no_grad for internal use (avoids the decorator machinery)."""

    __slots__ = ("prev",)

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = False

    def __exit__(self, *exc):
        state.enabled = self.prev
