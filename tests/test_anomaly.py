"""Anomaly mode against torch: switches, warnings, NaN detection naming the node and its line.

NOTE: test_nan_in_backward_names_node_and_forward_line needs the engine to call
``anomaly.check_backward_outputs`` (the 3-line engine change handed to the lead).
"""

from __future__ import annotations

import warnings

import pytest
import torch

import leafgrad
import leafgrad.autograd.anomaly as LA

pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)

LIBS = [(leafgrad, LA), (torch, torch.autograd)]


def test_switches_match_torch():
    for lib, an in LIBS:
        is_on = an.is_anomaly_enabled if lib is leafgrad else torch.is_anomaly_enabled
        check = (an.is_anomaly_check_nan_enabled if lib is leafgrad
                 else torch.is_anomaly_check_nan_enabled)
        assert (is_on(), check()) == (False, True)
        with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
            cm = an.detect_anomaly(check_nan=False)
        with cm:
            assert (is_on(), check()) == (True, False)
        assert (is_on(), check()) == (False, True)
        an.set_detect_anomaly(True)
        assert is_on()
        an.set_detect_anomaly(False)
        assert not is_on()
        with an.set_detect_anomaly(True, check_nan=False):
            assert (is_on(), check()) == (True, False)
        assert (is_on(), check()) == (False, True)


def test_decorator_form():
    # leafgrad's detect_anomaly also decorates (torch 2.13's is a context manager only)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @LA.detect_anomaly()
        def f():
            return LA.is_anomaly_enabled()

    assert f() is True and not LA.is_anomaly_enabled() and not torch.is_anomaly_enabled()


def test_sites_recorded_while_on():
    x = leafgrad.ones(2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with LA.detect_anomaly():
            y = x.sqrt()  # the line anomaly mode must point at
    assert "y = x.sqrt()" in LA.forward_trace(y.grad_fn)
    assert "No forward pass information" in LA.forward_trace((x * 2).grad_fn)


def test_nan_in_backward_names_node_and_forward_line():
    errors = []
    for lib, an in LIBS:
        x = lib.tensor([-1.0, 1.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with an.detect_anomaly():
                z = x.sqrt()  # NaN gradient at -1 (0 * inf)
                with pytest.raises(RuntimeError) as e:
                    (z * 0).sum().backward()
        errors.append(str(e.value).split("\n")[0])
        msgs = [str(m.message) for m in w]
        assert any("Error detected in SqrtBackward0" in m and "z = x.sqrt()" in m for m in msgs)
        if lib is leafgrad:
            assert "z = x.sqrt()" in str(e.value)
    assert errors[0] == errors[1]
    assert errors[0] == "Function 'SqrtBackward0' returned nan values in its 0th output."
    # check_nan=False, or anomaly mode off: the NaN is a value
    for lib, an in LIBS:
        x = lib.tensor([-1.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with an.detect_anomaly(check_nan=False):
                (x.sqrt() * 0).sum().backward()
        assert x.grad.isnan().any().item() if hasattr(x.grad, "isnan") else True


def test_check_backward_outputs_directly():
    x = leafgrad.tensor([-1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with LA.detect_anomaly():
            node = x.log().grad_fn
            import numpy as np

            LA.check_backward_outputs(node, (np.ones(1), None))
            with pytest.raises(RuntimeError, match="Function 'LogBackward0' returned nan values "
                                                   "in its 1th output."):
                LA.check_backward_outputs(node, (None, np.array([np.nan])))
