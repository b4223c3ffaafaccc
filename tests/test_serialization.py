"""leafgrad.save / leafgrad.load against real PyTorch, both directions."""

from __future__ import annotations

import collections
import io
import mmap
import os
import pathlib
import pickle
import warnings
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import leafgrad
from leafgrad.serialization import CheckpointError, UnsupportedDtypeError, _zip

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _values(dtype: str, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(n) > 0.5
    if dtype.startswith("float"):
        a = rng.standard_normal(n).astype(dtype)
        a[:3] = [np.nan, np.inf, -0.0][: min(3, n)]  # bit patterns that must survive
        return a
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)


def _same(a, b) -> None:
    """The leafgrad and torch tensors hold the same dtype, shape, strides, values (bitwise)."""
    assert str(a.dtype) == str(b.dtype)
    assert tuple(a.shape) == tuple(b.shape)
    if a.numel():  # NOTE: leafgrad reports row-major strides for every empty tensor
        assert tuple(a.stride()) == tuple(b.stride())
    assert a.requires_grad == b.requires_grad
    x = np.ascontiguousarray(a.detach().numpy()).reshape(-1)
    y = np.ascontiguousarray(b.detach().numpy()).reshape(-1)
    assert np.array_equal(x.view(np.uint8), y.view(np.uint8))  # bitwise: NaN and -0.0 too


def _buf(save, obj) -> io.BytesIO:
    b = io.BytesIO()
    save(obj, b)
    b.seek(0)
    return b


def _layouts(m, dtype: str):
    """One base and views of it, plus separate tensors of every layout PyTorch can save."""
    base = m.from_numpy(_values(dtype, 24).reshape(4, 6))
    return {
        "base": base,
        "row": base[1],  # a view (shares memory)
        "cols": base[:, 1:5:2],  # non-contiguous view
        "t": base.t(),  # transposed view
        "scalar": m.from_numpy(_values(dtype, 1)).reshape(()),
        "empty": m.from_numpy(_values(dtype, 0)).reshape(0, 3),
        "expanded": m.from_numpy(_values(dtype, 3)).expand(2, 3),
    }


@pytest.mark.parametrize("dtype", DTYPES)
def test_leafgrad_to_torch_every_dtype_and_layout(dtype):
    lg = _layouts(leafgrad, dtype)
    got = torch.load(_buf(leafgrad.save, lg), weights_only=True)
    for k in lg:
        _same(lg[k], got[k])
    # a view and its base were saved once and load sharing memory
    ptr = got["base"].untyped_storage().data_ptr()
    assert all(got[k].untyped_storage().data_ptr() == ptr for k in ("row", "cols", "t"))
    assert len(zipfile.ZipFile(_buf(leafgrad.save, lg)).namelist()) == 6 + 4  # 4 storages


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_to_leafgrad_every_dtype_and_layout(dtype):
    tt = _layouts(torch, dtype)
    got = leafgrad.load(_buf(torch.save, tt))
    for k in tt:
        _same(got[k], tt[k])
    # writing through the loaded base is visible in its loaded views
    got["base"][1, 1] = 1
    assert got["row"][1].tolist() == got["t"][1, 1].tolist() == got["base"][1, 1].tolist()
    assert got["row"][1].tolist() != tt["row"][1].tolist() or dtype in ("bool", "uint8", "int8")


def test_requires_grad_parameters_and_state_dict_metadata_both_ways():
    sd = collections.OrderedDict(w=torch.nn.Parameter(torch.randn(3, 2)), b=torch.zeros(2))
    sd["g"] = torch.ones(2, requires_grad=True)
    sd["nonleaf"] = sd["g"] * 2
    sd._metadata = collections.OrderedDict({"": {"version": 1}, "sub": {"version": 2}})
    got = leafgrad.load(_buf(torch.save, sd))
    assert type(got) is collections.OrderedDict and got._metadata == sd._metadata
    assert type(got["w"]) is leafgrad.nn.Parameter and got["w"].requires_grad
    assert got["g"].requires_grad and got["g"].is_leaf and not got["b"].requires_grad
    assert got["nonleaf"].requires_grad and got["nonleaf"].is_leaf  # as torch.load gives
    back = torch.load(_buf(leafgrad.save, got), weights_only=True)
    assert type(back) is collections.OrderedDict and back._metadata == sd._metadata
    assert type(back["w"]) is torch.nn.Parameter and torch.equal(back["w"], sd["w"])
    assert back["g"].requires_grad and not back["b"].requires_grad


def test_parameter_attributes_both_ways():
    p = leafgrad.nn.Parameter(leafgrad.ones(2))
    p.tag = "shared"
    got = torch.load(_buf(leafgrad.save, {"p": p}), weights_only=True)["p"]
    assert type(got) is torch.nn.Parameter and got.tag == "shared"
    back = leafgrad.load(_buf(torch.save, {"p": got}))["p"]
    assert type(back) is leafgrad.nn.Parameter and back.tag == "shared"
    t = torch.ones(2)
    t.note = 1  # a plain tensor with an attribute: leafgrad's tensors have fixed attributes
    with pytest.raises(CheckpointError, match="Python attributes"):
        leafgrad.load(_buf(torch.save, t))


def test_nested_containers_and_plain_values_both_ways():
    def obj(m):
        t = m.arange(4)
        return {"list": [t, 1, 2.5, "s", b"\x00by", None, True, complex(1, 2)],
                "tuple": (t, (t[1:],)), "set": {1, 2}, "dtype": m.float16, "size": m.Size([2, 3]),
                "device": m.device("cpu"), "int": 2**70, "neg": -5, "counter":
                collections.Counter("aab"), "nested": {"a": {"b": [[t]]}}}

    for save, load, m in ((leafgrad.save, lambda b: torch.load(b, weights_only=True), torch),
                          (torch.save, leafgrad.load, leafgrad)):
        src_m = leafgrad if m is torch else torch
        got = load(_buf(save, obj(src_m)))
        want = obj(m)
        assert got["list"][1:] == want["list"][1:] and got["set"] == want["set"]
        assert got["dtype"] == want["dtype"] and got["size"] == want["size"]
        assert type(got["size"]) is type(want["size"]) and got["device"] == want["device"]
        assert got["int"] == 2**70 and got["counter"] == want["counter"]
        assert got["tuple"][1][0].tolist() == [1, 2, 3]
        assert got["nested"]["a"]["b"][0][0].tolist() == [0, 1, 2, 3]
        assert isinstance(got["list"][0], m.Tensor)


def test_optimizer_state_dict_from_torch():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    got = leafgrad.load(_buf(torch.save, sd))
    assert got["param_groups"][0]["betas"] == (0.9, 0.999)
    assert got["param_groups"][0]["params"] == [0, 1]
    for i in (0, 1):
        for k in ("step", "exp_avg", "exp_avg_sq"):
            _same(got["state"][i][k], sd["state"][i][k])
    back = torch.load(_buf(leafgrad.save, got), weights_only=True)
    opt.load_state_dict(back)  # PyTorch accepts what leafgrad wrote


def _adam_pair(seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((3, 2)).astype(np.float32)
    tp = torch.nn.Parameter(torch.tensor(w))
    lp = leafgrad.nn.Parameter(leafgrad.tensor(w))
    return (tp, torch.optim.Adam([tp], lr=0.01, weight_decay=0.1),
            lp, leafgrad.optim.Adam([lp], lr=0.01, weight_decay=0.1), rng)


def _step(p, opt, g: np.ndarray, m) -> None:
    p.grad = m.tensor(g)
    opt.step()


def test_leafgrad_optimizer_state_dict_both_ways():
    tp, topt, lp, lopt, rng = _adam_pair()
    grads = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(4)]
    for g in grads[:2]:  # torch trains two steps and saves its optimizer
        _step(tp, topt, g, torch)
    lp.data.copy_(leafgrad.tensor(tp.detach().numpy()))
    lopt.load_state_dict(leafgrad.load(_buf(torch.save, topt.state_dict())))
    _step(tp, topt, grads[2], torch)
    _step(lp, lopt, grads[2], leafgrad)
    assert np.array_equal(lp.detach().numpy(), tp.detach().numpy())
    # and back: leafgrad's optimizer state into torch's
    _step(lp, lopt, grads[3], leafgrad)
    tp2, topt2, *_ = _adam_pair()
    with torch.no_grad():
        tp2.copy_(torch.tensor(lp.detach().numpy()))
    topt2.load_state_dict(torch.load(_buf(leafgrad.save, lopt.state_dict()), weights_only=True))
    g = rng.standard_normal((3, 2)).astype(np.float32)
    _step(tp2, topt2, g, torch)
    _step(lp, lopt, g, leafgrad)
    assert np.array_equal(lp.detach().numpy(), tp2.detach().numpy())


def test_models_state_dict_both_ways_identical_outputs():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    opt = torch.optim.SGD(tm.parameters(), lr=0.1)
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    for _ in range(3):  # a trained model, not an initialisation
        opt.zero_grad()
        tm(torch.tensor(x)).pow(2).mean().backward()
        opt.step()
    lm = leafgrad.nn.Sequential(leafgrad.nn.Linear(5, 7), leafgrad.nn.ReLU(),
                                leafgrad.nn.Linear(7, 3))
    lm.load_state_dict(leafgrad.load(_buf(torch.save, tm.state_dict())))
    for (k, p), (k2, q) in zip(lm.state_dict().items(), tm.state_dict().items()):
        assert k == k2
        _same(p, q)
    np.testing.assert_allclose(lm(leafgrad.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)
    # the reverse: leafgrad's state dict into a fresh torch model, and back into leafgrad
    lm2 = leafgrad.nn.Sequential(leafgrad.nn.Linear(5, 7), leafgrad.nn.ReLU(),
                                 leafgrad.nn.Linear(7, 3))
    tm2 = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    tm2.load_state_dict(torch.load(_buf(leafgrad.save, lm.state_dict()), weights_only=True))
    lm2.load_state_dict(leafgrad.load(_buf(torch.save, tm2.state_dict())))
    assert np.array_equal(lm2(leafgrad.tensor(x)).detach().numpy(),
                          lm(leafgrad.tensor(x)).detach().numpy())


def test_paths_pathlib_and_files(tmp_path):
    obj = {"a": leafgrad.arange(3.0)}
    p = tmp_path / "my.model.pt"
    leafgrad.save(obj, str(p))
    assert zipfile.ZipFile(p).namelist()[0] == "my.model/data.pkl"  # PyTorch's archive name
    assert torch.load(str(p), weights_only=True)["a"].tolist() == [0.0, 1.0, 2.0]
    leafgrad.save(obj, p)  # pathlib.Path
    assert leafgrad.load(pathlib.Path(p))["a"].tolist() == [0.0, 1.0, 2.0]
    with open(p, "wb") as f:
        leafgrad.save(obj, f)
    with open(p, "rb") as f:
        assert leafgrad.load(f)["a"].tolist() == [0.0, 1.0, 2.0]
    torch.save({"t": torch.ones(2)}, p)
    assert leafgrad.load(p)["t"].tolist() == [1.0, 1.0]
    assert [x.name for x in tmp_path.iterdir()] == ["my.model.pt"]  # no temporary left behind


class _Stream:
    """A read-only, non-seekable stream (a pipe or an HTTP body)."""

    def __init__(self, data: bytes) -> None:
        self._b = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._b.read(n)

    def seek(self, *args):
        raise io.UnsupportedOperation("seek")

    def seekable(self) -> bool:
        return False


def test_non_seekable_stream():
    data = _buf(torch.save, {"a": torch.arange(3)}).getvalue()
    assert leafgrad.load(_Stream(data))["a"].tolist() == [0, 1, 2]


def test_failed_save_leaves_no_file(tmp_path):
    p = tmp_path / "x.pt"
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        leafgrad.save({"f": lambda: 0}, p)
    assert list(tmp_path.iterdir()) == []


def test_legacy_format_from_torch():
    base = torch.arange(12.0).reshape(3, 4)
    sd = collections.OrderedDict(w=base, row=base[1], p=torch.nn.Parameter(torch.ones(2)),
                                 i=torch.tensor([1, 2], dtype=torch.int16))
    sd._metadata = {"": {"version": 1}}
    b = io.BytesIO()
    torch.save(sd, b, _use_new_zipfile_serialization=False)
    got = leafgrad.load(io.BytesIO(b.getvalue()))
    for k in ("w", "row", "i"):
        _same(got[k], sd[k])
    assert got._metadata == sd._metadata and type(got["p"]) is leafgrad.nn.Parameter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trusted = leafgrad.load(io.BytesIO(b.getvalue()), weights_only=False)
    _same(trusted["row"], sd["row"])
    got["w"][1, 0] = -1.0
    assert got["row"][0].item() == -1.0  # the view still shares its base's storage
    # to the CPU only (without CuPy the CUDA error comes first, naming the same fix)
    with pytest.raises(RuntimeError, match="CPU only|map_location=torch.device"):
        leafgrad.load(io.BytesIO(b.getvalue()), map_location="cuda")
    with pytest.raises(RuntimeError, match="mmap can only be used"):
        path = "/tmp/leafgrad_legacy_test.pt"
        with open(path, "wb") as f:
            f.write(b.getvalue())
        try:
            leafgrad.load(path, mmap=True)
        finally:
            os.unlink(path)


def test_save_refuses_legacy_and_odd_protocols():
    with pytest.raises(RuntimeError, match="zip format"):
        leafgrad.save({}, io.BytesIO(), _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="pickle_protocol"):
        leafgrad.save({}, io.BytesIO(), pickle_protocol=1)
    # protocol 4 is written and read back by both (torch warns on non-2 protocols)
    b = _buf(lambda o, f: leafgrad.save(o, f, pickle_protocol=4), {"a": leafgrad.ones(1)})
    assert leafgrad.load(b)["a"].tolist() == [1.0]


def test_mmap_private_and_shared(tmp_path):
    p = tmp_path / "m.pt"
    leafgrad.save({"a": leafgrad.arange(4.0), "v": None}, p)
    got = leafgrad.load(p, mmap=True)
    got["a"][0] = 100.0  # copy-on-write: the file keeps its bytes
    assert leafgrad.load(p)["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert torch.load(p, mmap=True, weights_only=True)["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    leafgrad.serialization.set_default_mmap_options(mmap.MAP_SHARED)
    try:
        shared = leafgrad.load(p, mmap=True)
        shared["a"][1] = -7.0
        del shared
    finally:
        leafgrad.serialization.set_default_mmap_options(mmap.MAP_PRIVATE)
    assert leafgrad.load(p, mmap=True)["a"].tolist() == [0.0, -7.0, 2.0, 3.0]
    # the file's bytes changed under its CRC: a checked (non-mmap) load says so; PyTorch
    # does not check and loads the new values
    with pytest.raises(RuntimeError, match="CRC-32 mismatch"):
        leafgrad.load(p)
    assert torch.load(p, weights_only=True)["a"].tolist() == [0.0, -7.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="file path"):
        leafgrad.load(io.BytesIO(p.read_bytes()), mmap=True)


def test_map_location_forms():
    b = _buf(torch.save, {"a": torch.ones(2)}).getvalue()
    for loc in ("cpu", torch.device("cpu"), leafgrad.device("cpu"), {"cpu": "cpu"},
                lambda storage, loc: storage, lambda storage, loc: None):
        assert leafgrad.load(io.BytesIO(b), map_location=loc)["a"].tolist() == [1.0, 1.0]
    seen = []
    leafgrad.load(io.BytesIO(b), map_location=lambda s, loc: seen.append((s.nbytes(), loc)))
    assert seen == [(8, "cpu")]
    with pytest.raises(RuntimeError, match="don't know how to restore"):
        leafgrad.load(io.BytesIO(b), map_location="meta")


def test_cuda_checkpoint_without_cupy_says_how_to_load():
    b = _buf(torch.save, {"a": torch.ones(2)}).getvalue()
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="map_location=torch.device\\('cpu'\\)"):
            leafgrad.load(io.BytesIO(b), map_location="cuda:0")
    else:  # pragma: no cover - only on a machine with CuPy
        assert leafgrad.load(io.BytesIO(b), map_location="cuda:0")["a"].device.type == "cuda"


def test_allow_list_refuses_and_safe_globals_allow():
    b = _buf(torch.save, {"s": slice(1, 2)}).getvalue()
    with pytest.raises(pickle.UnpicklingError) as e:
        leafgrad.load(io.BytesIO(b))
    assert "GLOBAL slice was not an allowed global" in str(e.value)
    assert "leafgrad.serialization.add_safe_globals([slice])" in str(e.value)
    with leafgrad.serialization.safe_globals([slice]):
        assert leafgrad.load(io.BytesIO(b))["s"] == slice(1, 2)
    assert slice not in leafgrad.serialization.get_safe_globals()
    leafgrad.serialization.add_safe_globals([slice])
    try:
        assert leafgrad.load(io.BytesIO(b))["s"] == slice(1, 2)
    finally:
        leafgrad.serialization.clear_safe_globals()
    assert (leafgrad.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(b))
            == torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(b))
            == ["builtins.slice"])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert leafgrad.load(io.BytesIO(b), weights_only=False)["s"] == slice(1, 2)
    assert any("arbitrary code execution" in str(x.message) for x in w)
    with pytest.raises(RuntimeError, match="pickle_module"):
        leafgrad.load(io.BytesIO(b), pickle_module=pickle)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/leafgrad_pwned",))


class _EvalEvil:
    def __reduce__(self):
        return (eval, ("open('/tmp/leafgrad_pwned', 'w')",))


@pytest.mark.parametrize("payload", [_Evil(), _EvalEvil()], ids=["os.system", "eval"])
def test_malicious_checkpoint_runs_nothing(payload):
    if os.path.exists("/tmp/leafgrad_pwned"):
        os.unlink("/tmp/leafgrad_pwned")
    for use_zip in (True, False):
        b = io.BytesIO()
        torch.save({"x": payload}, b, _use_new_zipfile_serialization=use_zip)
        with pytest.raises(pickle.UnpicklingError, match="blocked|not an allowed global"):
            leafgrad.load(io.BytesIO(b.getvalue()))
        assert not os.path.exists("/tmp/leafgrad_pwned")


def _zip_with_pickle(pkl: bytes, records: dict | None = None) -> io.BytesIO:
    b = io.BytesIO()
    w = _zip.ZipWriter(b, "archive")
    w.write("data.pkl", pkl)
    for name, data in (records or {}).items():
        w.write(name, data)
    w.write("version", b"3\n")
    w.close()
    b.seek(0)
    return b


def test_restricted_opcodes_cannot_reach_objects():
    # BUILD on an allow-listed class (would patch leafgrad's dtype singletons or classes)
    build_on_dtype = b"\x80\x02ctorch\nfloat32\n}X\x02\x00\x00\x00npK\x01sb."
    # SETITEM into a tensor's __setitem__, APPEND onto a non-list
    setitem_tensor = (b"\x80\x02ctorch\nSize\n]\x85R" b"K\x00K\x01s.")
    # REDUCE on something find_class did not hand out (a dict built by the pickle)
    reduce_dict = b"\x80\x02}K\x01\x85R."
    newobj_fn = b"\x80\x02c_codecs\nencode\n)\x81."
    for pkl in (build_on_dtype, setitem_tensor, reduce_dict, newobj_fn):
        with pytest.raises(pickle.UnpicklingError):
            leafgrad.load(_zip_with_pickle(pkl))
    assert leafgrad.float32.np == np.float32  # the singleton is untouched
    for pkl in (b"\x80\x02cbuiltins\nbytearray\nJ\x00\x00\x00\x7f\x85R.",  # 2 GiB allocation
                b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x03\x00\x00\x00hex\x86R."):
        with pytest.raises(pickle.UnpicklingError):
            leafgrad.load(_zip_with_pickle(pkl))


def test_unsupported_torch_features_are_named():
    cases = {
        "bfloat16": {"t": torch.ones(2, dtype=torch.bfloat16)},
        "complex64": {"t": torch.ones(2, dtype=torch.complex64)},
        "uint16": {"t": torch.ones(2, dtype=torch.uint16)},
    }
    for name, obj in cases.items():
        with pytest.raises(UnsupportedDtypeError, match=f"torch.{name}"):
            leafgrad.load(_buf(torch.save, obj))
    # the dtype as a plain value is fine both ways (leafgrad names bfloat16, stores none)
    assert leafgrad.load(_buf(torch.save, {"d": torch.bfloat16}))["d"] is leafgrad.bfloat16
    assert torch.load(_buf(leafgrad.save, [leafgrad.bfloat16]), weights_only=True) == [
        torch.bfloat16]
    with pytest.raises(CheckpointError, match="sparse"):
        leafgrad.load(_buf(torch.save, {"s": torch.eye(2).to_sparse()}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates quantized tensors
        q = torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8)
    with pytest.raises(CheckpointError, match="quantized"):
        leafgrad.load(_buf(torch.save, q))
    scripted = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates TorchScript
        torch.jit.save(torch.jit.script(torch.nn.Linear(1, 1)), scripted)
    with pytest.raises(CheckpointError, match="TorchScript"):
        leafgrad.load(io.BytesIO(scripted.getvalue()))


def test_big_endian_checkpoint_is_swapped():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    good = _buf(leafgrad.save, {"a": leafgrad.from_numpy(a), "b": leafgrad.tensor([True])})
    z = zipfile.ZipFile(good)
    out = io.BytesIO()
    w = _zip.ZipWriter(out, "archive")
    for name in z.namelist():
        data = z.read(name)
        short = name.split("/", 1)[1]
        if short == "byteorder":
            data = b"big"
        elif short == "data/0":
            data = np.frombuffer(data, np.float32).byteswap().tobytes()
        w.write(short, data)
    w.close()
    got = leafgrad.load(io.BytesIO(out.getvalue()))
    assert got["a"].tolist() == a.tolist() and got["b"].tolist() == [True]
    assert torch.load(io.BytesIO(out.getvalue()), weights_only=True)["a"].tolist() == a.tolist()


def test_zip64_records(monkeypatch):
    monkeypatch.setattr(_zip, "ZIP64_LIMIT", 64)  # every record past 64 bytes takes ZIP64 fields
    obj = {"a": leafgrad.arange(100.0), "b": leafgrad.ones(3)}
    b = _buf(leafgrad.save, obj).getvalue()
    assert zipfile.ZipFile(io.BytesIO(b)).testzip() is None
    assert torch.load(io.BytesIO(b), weights_only=True)["a"].tolist() == list(range(100))
    assert leafgrad.load(io.BytesIO(b))["a"].tolist() == list(range(100))


def test_views_of_numpy_memory_save_only_their_span():
    big = np.arange(1_000_000, dtype=np.float64)
    t = leafgrad.from_numpy(big[10:20])
    b = _buf(leafgrad.save, {"t": t, "u": leafgrad.from_numpy(big[15:30])}).getvalue()
    assert len(b) < 2_000  # 20 elements, not the 8 MB array
    got = torch.load(io.BytesIO(b), weights_only=True)
    assert got["t"].tolist() == list(range(10, 20)) and got["u"].tolist() == list(range(15, 30))
    assert got["t"].untyped_storage().data_ptr() == got["u"].untyped_storage().data_ptr()
    mixed = np.zeros(4, np.float32)
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        leafgrad.save([leafgrad.from_numpy(mixed), leafgrad.from_numpy(mixed.view(np.int32))],
                      io.BytesIO())


def test_cpu_only_location_errors_name_the_fix():
    with pytest.raises(TypeError, match="map_location"):
        leafgrad.load(_buf(torch.save, {"a": torch.ones(1)}), map_location=3.5)


@st.composite
def _strided_views(draw):
    """A base array's shape and a view of it: per-dim slices with steps, then a permutation."""
    shape = draw(st.lists(st.integers(0, 5), min_size=0, max_size=4))
    index = tuple(slice(draw(st.integers(0, 2)), None, draw(st.integers(1, 3))) for _ in shape)
    perm = draw(st.permutations(range(len(shape))))
    dtype = draw(st.sampled_from(DTYPES))
    return tuple(shape), index, tuple(perm), dtype


@settings(max_examples=40, deadline=None)
@given(_strided_views())
def test_views_round_trip_both_ways(case):
    shape, index, perm, dtype = case
    src = _values(dtype, int(np.prod(shape))).reshape(shape)
    for m, save, load in ((leafgrad, leafgrad.save, lambda b: torch.load(b, weights_only=True)),
                          (torch, torch.save, leafgrad.load)):
        base = m.from_numpy(src.copy())
        view = base[index].permute(*perm) if shape else base
        got = load(_buf(save, {"base": base, "view": view}))
        a, b = (got["view"], view) if m is torch else (view, got["view"])
        _same(a, b)
        if view.numel():  # the view still lives in its base's memory
            got["base"].view(-1)[0:1] = got["base"].view(-1)[0:1]  # a write through the base
            assert np.shares_memory(np.asarray(got["base"].detach().numpy()),
                                    np.asarray(got["view"].detach().numpy()))
