"""leafgrad.utils.safetensors against the safetensors package and torch."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad.utils import safetensors as lst

st = pytest.importorskip("safetensors.torch", reason="the safetensors package is the oracle")
SafetensorError = pytest.importorskip("safetensors").SafetensorError

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _tensors(m):
    out = {}
    for i, d in enumerate(DTYPES):
        out[f"t_{d}"] = (m.arange(6) % 2 == 0 if d == "bool" else m.arange(6)).to(
            getattr(m, d)).reshape(2, 3)
        out[f"z_{i}"] = m.zeros(0, 2, dtype=getattr(m, d))
    out["scalar"] = m.tensor(2.5)
    return out


def _header(data: bytes) -> dict:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n])


def test_bytes_identical_to_the_reference_writer():
    assert lst.save(_tensors(leafgrad)) == st.save(_tensors(torch))
    # with metadata the reference orders its keys by hash (varies run to run): same content
    meta = {"format": "pt", "note": "x"}
    mine, theirs = lst.save(_tensors(leafgrad), meta), st.save(_tensors(torch), meta)
    assert _header(mine) == _header(theirs) and len(mine) == len(theirs)
    assert mine[-200:] == theirs[-200:]


def test_files_both_ways(tmp_path):
    mine = tmp_path / "mine.safetensors"
    theirs = tmp_path / "theirs.safetensors"
    lst.save_file(_tensors(leafgrad), mine, metadata={"a": "b"})
    st.save_file(_tensors(torch), theirs)
    for path in (mine, theirs):
        for got in (lst.load_file(path), leafgrad.load(path), lst.load(path.read_bytes())):
            want = st.load_file(str(path))
            assert set(got) == set(want)
            for k in want:
                assert str(got[k].dtype) == str(want[k].dtype)
                assert tuple(got[k].shape) == tuple(want[k].shape)
                assert got[k].tolist() == want[k].tolist()
        assert torch.load(path)["t_int64"].tolist() == [[0, 1, 2], [3, 4, 5]]
    with lst.safe_open(mine) as f:
        assert f.metadata() == {"a": "b"} and f.keys() == sorted(_tensors(leafgrad))
        assert f.get_tensor("scalar").item() == 2.5


def test_load_state_dict_from_safetensors(tmp_path):
    torch.manual_seed(0)
    tm = torch.nn.Linear(4, 3)
    path = tmp_path / "m.safetensors"
    st.save_file(tm.state_dict(), str(path))
    lm = leafgrad.nn.Linear(4, 3)
    lm.load_state_dict(lst.load_file(path))
    assert np.array_equal(lm.weight.detach().numpy(), tm.weight.detach().numpy())
    lst.save_file(lm.state_dict(), path)
    tm2 = torch.nn.Linear(4, 3)
    tm2.load_state_dict(st.load_file(str(path)))
    assert torch.equal(tm2.bias, tm.bias)


def test_writer_refuses_what_the_reference_refuses():
    x = leafgrad.ones(4)
    tx = torch.ones(4)
    cases = [({"a": x, "b": x}, {"a": tx, "b": tx}, RuntimeError),  # shared memory
             ({"a": x[:3], "b": x[1:]}, {"a": tx[:3], "b": tx[1:]}, RuntimeError),
             ({"a": leafgrad.ones(2, 3).t()}, {"a": torch.ones(2, 3).t()}, ValueError),
             ({1: x}, {1: tx}, TypeError)]
    for mine, theirs, err in cases:
        with pytest.raises(err):
            lst.save(mine)
        with pytest.raises(err):
            st.save(theirs)
    with pytest.raises(TypeError):
        lst.save({"a": x}, metadata={"k": 1})
    # slices of one buffer that do not overlap are fine, in both
    assert lst.save({"a": x[:2], "b": x[2:]}) == st.save({"a": tx[:2], "b": tx[2:]})


def _raw(header: dict, data: bytes, pad: bool = True) -> bytes:
    h = json.dumps(header).encode()
    if pad:
        h += b" " * (-(8 + len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + data


GOOD = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
MALFORMED = {
    "short": b"\x01\x00",
    "header too large": struct.pack("<Q", 200_000_000) + b"{}",
    "header past end": struct.pack("<Q", 1000) + b"{}",
    "not json": struct.pack("<Q", 4) + b"{abc",
    "not an object": _raw([1, 2], b"", pad=False),
    "gap": _raw({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\x00" * 8),
    "overlap": _raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                     "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\x00" * 8),
    "size mismatch": _raw({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
                          b"\x00" * 8),
    "truncated data": _raw(GOOD, b"\x00" * 4),
    "trailing data": _raw(GOOD, b"\x00" * 12),
    "bad dtype": _raw({"a": {"dtype": "F99", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8),
    "negative shape": _raw({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}},
                           b"\x00" * 8),
    "missing field": _raw({"a": {"dtype": "F32", "shape": [2]}}, b"\x00" * 8),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_buffers_are_refused_like_the_reference(case):
    data = MALFORMED[case]
    with pytest.raises(lst.SafetensorError):
        lst.load(data)
    with pytest.raises((SafetensorError, ValueError, TypeError)):
        st.load(data)


def test_duplicate_names_and_unsupported_dtypes():
    dup = struct.pack("<Q", 200)
    h = (b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
         b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
    dup = struct.pack("<Q", len(h)) + h + b"\x00" * 8
    with pytest.raises(lst.SafetensorError, match="twice"):
        lst.load(dup)
    bf = st.save({"w": torch.ones(2, dtype=torch.bfloat16)})
    with pytest.raises(TypeError, match="bfloat16"):
        lst.load(bf)
    assert lst.load(_raw(GOOD, np.array([1, 2], "<f4").tobytes()))["a"].tolist() == [1.0, 2.0]
