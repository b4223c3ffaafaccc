"""Guard: op, nn and optim code makes no host (NumPy) arrays, so CuPy stays a setting.

Arrays are created through the input's array module (``xp = array_module(x)``; ``xp.zeros``,
``xp.asarray``...) or placed with ``leafgrad.backend.like(host, x)``. A call such as
``np.zeros(...)`` or ``np.asarray(...)`` on the ``numpy`` module itself, under
``leafgrad/ops/``, ``leafgrad/nn/`` or ``leafgrad/optim/``, fails this test unless ALLOWED
lists it with the reason it is right (host data on purpose: shapes, Python lists, CPU-only
code). ``np.*_like`` and NumPy's compute functions are not creation: on a CuPy array they
dispatch to CuPy (``__array_function__``), which the fake device checks at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import leafgrad

ROOT = Path(leafgrad.__file__).parent
AREAS = ("ops", "nn", "optim")

# numpy functions that make a new array on the host from sizes or host data
CREATORS = frozenset({
    "array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "zeros", "ones",
    "empty", "full", "eye", "identity", "arange", "linspace", "logspace", "geomspace", "tri",
    "indices", "fromiter", "frombuffer", "fromfunction", "fromstring", "require", "copy",
    "tril_indices", "triu_indices", "diag_indices", "mask_indices",
})
RANDOM = "random"  # np.random.*: leafgrad draws on the CPU through its own generator

# (file under leafgrad/, enclosing function, numpy name) -> why a host array is right there
_GEOMETRY = ("a geometry table computed on the host from sizes (cached per shape); the linear "
             "map places it on the input's device where it meets device data (_linmap.Axis)")
_CTC = ("CTC's forward-backward recursion is a Python loop over samples and time steps: it runs "
        "on a host copy of log_probs, and its results are placed back (backend.like)")
_NUMPY_PATH = "the NumPy-only branch (the device branch above it returns first)"
_BN_CPU = ("PyTorch's CPU batch-norm kernels, reproduced for NumPy arrays only "
           "(batchnorm_cpu.applies refuses other array modules)")
_POSITIONS = ("storage positions of a strided layout, computed on the host from its shape and "
              "strides (geometry of overlapping views); they index device arrays as host index "
              "arrays, which CuPy accepts (it copies them)")
_BOOL_INDEX = ("x[True] / x[False] as PyTorch does it: an index [0] or [] on a new dim, a host "
               "index array, which device indexing accepts (CuPy copies it)")
_LIBM = ("float64 erf/erfc by the C library, host data only: _erf_f sends device arrays to the "
         "series instead")
_PACKED = ("packed-sequence bookkeeping from lengths/batch_sizes, which torch keeps on the CPU "
           "(batch_sizes is always a CPU tensor)")
_MPI = ("leafgrad.distributed's MPI transport exchanges host buffers (as torch's gloo backend, "
        "CPU only); DDP/SyncBatchNorm on device tensors are not supported yet")
_FMA = ("the exact FMA emulation of the optimizers works on host arrays: _kernels.fma sends "
        "another backend's operands through a host copy and writes the result back")
ALLOWED: dict[tuple[str, str, str], str] = {
    ("optim/_fma.py", "_Work.get", "empty"): _FMA,
    ("optim/_fma.py", "_fix64", "full"): _FMA,
    ("optim/_fma.py", "_flags_work", "empty"): _FMA,
    ("optim/_fma.py", "_flags_work.flagged", "ones"): _FMA,
    ("optim/_fma.py", "_operand", "asarray"): _FMA,
    ("optim/_fma.py", "_operand", "ascontiguousarray"): _FMA,
    ("optim/_fma.py", "fma", "empty"): _FMA,
    ("optim/_fma.py", "fma", "full"): _FMA,
    ("optim/_kernels.py", "fma", "empty"): _FMA,
    ("ops/_conv_kernels.py", "workspace", "zeros"):
        "a reused NumPy scratch buffer; device arrays get xp.zeros in the line above",
    ("ops/_linmap.py", "_as_slice", "arange"): _GEOMETRY,
    ("ops/_linmap.py", "Axis.__init__", "asarray"): _GEOMETRY,
    ("ops/_linmap.py", "Axis.__init__", "zeros"): _GEOMETRY,
    ("ops/_linmap.py", "Axis.weight", "asarray"): _GEOMETRY + "; moved in the next line",
    ("ops/_linmap.py", "_scatter_add_axis", "arange"): _NUMPY_PATH,
    ("ops/_linmap.py", "MaxSelect.positions", "arange"): _GEOMETRY + "; moved with xp.asarray",
    ("ops/pooling.py", "_max_axes", "arange"): _GEOMETRY,
    ("ops/pooling.py", "_avg_axes", "arange"): _GEOMETRY,
    ("ops/pooling.py", "_avg_axes", "asarray"): _GEOMETRY + " (the divisor)",
    ("ops/pooling.py", "_avg_axes", "ones"): _GEOMETRY + " (the divisor)",
    ("ops/pooling.py", "_windows", "arange"): _GEOMETRY,
    ("ops/pooling.py", "_adaptive_avg_nd", "ones"): _GEOMETRY + " (the divisor)",
    ("ops/interpolate.py", "_nearest_index", "arange"): _GEOMETRY,
    ("ops/interpolate.py", "_linear_source", "arange"): _GEOMETRY,
    ("ops/interpolate.py", "interpolate", "arange"): _GEOMETRY,
    ("ops/interpolate.py", "interpolate", "ones"): _GEOMETRY,   # an unchanged axis' two taps
    ("ops/interpolate.py", "interpolate", "zeros"): _GEOMETRY,
    ("ops/spatial.py", "_pad_index", "arange"): _GEOMETRY,
    ("ops/embedding.py", "embedding_bag", "arange"):
        "bag bookkeeping (the bag of each index, counts) from the offsets, on the host, placed "
        "on the weight's device with backend.like",
    ("ops/embedding.py", "embedding_bag", "zeros"): "as embedding_bag's arange",
    ("ops/embedding.py", "embedding_bag", "ones"): "as embedding_bag's arange",
    ("ops/loss_extra.py", "CtcLoss._ext", "full"): _CTC,
    ("ops/loss_extra.py", "CtcLoss.forward", "empty"): _CTC,
    ("ops/loss_extra.py", "CtcLoss.backward", "full"): _CTC,
    ("ops/loss_extra.py", "_ctc_alpha", "full"): _CTC,
    ("ops/loss_extra.py", "_ctc_alpha", "zeros"): _CTC,
    ("ops/loss_extra.py", "_ctc_beta", "full"): _CTC,
    ("ops/loss_extra.py", "_ctc_beta", "zeros"): _CTC,
    ("ops/loss_extra.py", "_lengths", "asarray"): _CTC + " (lengths given as Python lists)",
    ("ops/loss_extra.py", "ctc_loss", "asarray"): _CTC + " (targets)",
    ("optim/optimizer.py", "_step_tensor", "array"):
        "torch keeps step counters on the CPU (capturable=False); with like= (ASGD) the counter "
        "is placed on the parameter's device",
    ("optim/optimizer.py", "_as_tensor", "asarray"):
        "a state value from a state dict (NumPy data, a torch CPU tensor) as a CPU tensor; "
        "load_state_dict's policy then moves it to the parameter's device, as torch's does",
    ("optim/optimizer.py", "_as_tensor", "array"): "as _as_tensor's asarray (the copy)",
    ("optim/lbfgs.py", "_arr", "asarray"):
        "a NumPy value in a loaded state (leafgrad stores Tensors); a Tensor's array is used as is",
    ("ops/elementwise/special.py", "", "array"):
        "erf's float32 coefficient tables, read one element at a time (NumPy scalars, which "
        "mix with device arrays as numbers)",
    ("ops/elementwise/special.py", "_libm_map", "asarray"): _LIBM,
    ("ops/elementwise/special.py", "_libm_map", "fromiter"): _LIBM,
    ("ops/lastbits.py", "_float64_blocks", "empty"): _NUMPY_PATH + " (in_float64's blocks)",
    ("ops/batchnorm_cpu.py", "_var_sum64", "zeros"): _BN_CPU,
    ("ops/batchnorm_cpu.py", "backward", "ascontiguousarray"): _BN_CPU,
    ("ops/lastbits.py", "", "ones"):
        _NUMPY_PATH + " (1.0 as a 0-d array for tanh_backward's small NumPy case)",
    ("ops/elementwise/dispatch.py", "_number", "array"):
        _NUMPY_PATH + " (a Python float as a 0-d array: used for NumPy operands only)",
    ("optim/_kernels.py", "_scratch", "empty"): _NUMPY_PATH + " (reused NumPy scratch)",
    ("ops/rnn_packing.py", "pack_rows", "arange"): _PACKED + "; the index is placed with like",
    ("nn/utils/rnn.py", "_lengths_array", "asarray"): _PACKED + " (lengths as Python data)",
    ("nn/utils/rnn.py", "_pack", "arange"): _PACKED,
    ("nn/utils/rnn.py", "pad_packed_sequence", "arange"): _PACKED,
    ("nn/parallel/_functions.py", "SyncBatchNorm.forward", "zeros"): _MPI,
    ("nn/parallel/_functions.py", "SyncBatchNorm.forward", "full"): _MPI,
    ("nn/parallel/_functions.py", "SyncBatchNorm.forward", "empty"): _MPI,
    ("nn/parallel/_functions.py", "SyncBatchNorm.forward", "asarray"): _MPI,
    ("nn/parallel/_functions.py", "SyncBatchNorm.backward", "asarray"): _MPI,
    ("nn/parallel/_reducer.py", "_Bucket.__init__", "zeros"): _MPI + " (the gradient bucket)",
    ("nn/parallel/distributed.py", "DistributedDataParallel._broadcast", "empty"): _MPI,
    ("nn/parallel/distributed.py", "DistributedDataParallel._verify_same_parameters", "empty"):
        _MPI + " (counts and shape fingerprints)",
    ("nn/parallel/distributed.py", "DistributedDataParallel._verify_same_parameters", "array"):
        _MPI + " (counts and shape fingerprints)",
    ("ops/attention.py", "scaled_dot_product_attention", "zeros"):
        "the dropout noise is drawn on the CPU generator (as dropout's) and moved in the next line",
    ("ops/inplace_view.py", "_positions", "full"): _POSITIONS,
    ("ops/inplace_view.py", "_positions", "arange"): _POSITIONS,
    ("ops/movement/indexing.py", "getitem", "zeros"): _BOOL_INDEX,
    ("ops/movement/scatter.py", "_split_bools", "zeros"): _BOOL_INDEX,
    ("ops/movement/gather.py", "_long_index", "asarray"):
        "an index given as Python data where torch requires a Tensor: a host index array, "
        "which device indexing and backend.ufunc_at accept (CuPy copies it)",
}


def _numpy_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name == "numpy"}
    return names


def _host_creations(path: Path):
    """(enclosing function, numpy name, line) of each host-array creation in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    np_names = _numpy_names(tree)
    found = []

    def visit(node, func: str):
        for child in ast.iter_child_nodes(node):
            name = func
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{func}.{child.name}" if func else child.name
            if isinstance(child, ast.Call):
                f = child.func
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                        and f.value.id in np_names and f.attr in CREATORS:
                    found.append((func, f.attr, child.lineno))
                # np.random.<anything>(...)
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) \
                        and isinstance(f.value.value, ast.Name) \
                        and f.value.value.id in np_names and f.value.attr == RANDOM:
                    found.append((func, f"random.{f.attr}", child.lineno))
            visit(child, name)

    visit(tree, "")
    return found


def _all_creations():
    out = []
    for area in AREAS:
        for path in sorted((ROOT / area).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for func, name, line in _host_creations(path):
                out.append((rel, func, name, line))
    return out


def test_no_host_arrays_in_ops_nn_optim():
    """Every np.<creator>(...) under ops/, nn/, optim/ is on the allow-list, with its reason."""
    bad = [f"leafgrad/{rel}:{line} {func or '<module>'}: np.{name}(...)"
           for rel, func, name, line in _all_creations() if (rel, func, name) not in ALLOWED]
    assert not bad, (
        "host arrays created in device code (make them with xp = array_module(x), or place "
        "host data with leafgrad.backend.like(host, x); if a host array is right, add it to "
        "ALLOWED with the reason):\n" + "\n".join(bad))


def test_allow_list_has_no_stale_entries():
    """Each allow-list entry still matches code (a moved or fixed site leaves no stale pass)."""
    present = {(rel, func, name) for rel, func, name, _ in _all_creations()}
    stale = sorted(k for k in ALLOWED if k not in present)
    assert not stale, f"allow-list entries that match no code: {stale}"


# leafgrad's own constructors, which make CPU tensors unless given device=
TENSOR_CREATORS = frozenset({"tensor", "as_tensor", "zeros", "ones", "full", "empty", "eye",
                             "arange", "linspace", "logspace", "rand", "randn", "randint",
                             "randperm", "normal"})

# (file under leafgrad/, enclosing function, constructor) -> why a CPU tensor is right there
_OPERAND = ("a non-Tensor operand (NumPy array, sequence) becomes a tensor where it is, as in "
            "torch (a device array stays on its device; host data makes a CPU tensor)")
ALLOWED_TENSORS: dict[tuple[str, str, str], str] = {
    ("ops/elementwise/binary.py", "_binary_raw", "as_tensor"): _OPERAND,
    ("ops/elementwise/binary.py", "rmod", "as_tensor"): _OPERAND,
    ("ops/elementwise/core.py", "rsub", "as_tensor"): _OPERAND,
    ("ops/elementwise/core.py", "_rpow_scalar", "as_tensor"): _OPERAND,
    ("ops/elementwise/core.py", "where", "as_tensor"): _OPERAND,
    ("ops/elementwise/dispatch.py", "_operands", "as_tensor"): _OPERAND,
    ("ops/elementwise/dispatch.py", "_binary", "as_tensor"): _OPERAND,
    ("ops/elementwise/ternary.py", "_as_operand", "as_tensor"): _OPERAND,
    ("ops/elementwise/ternary.py", "_ternary", "as_tensor"): _OPERAND,
    ("nn/init.py", "eye_", "eye"): "copied into the tensor with copy_, which moves it",
    ("nn/init.py", "sparse_", "randperm"):
        "drawn on the CPU from leafgrad's generator (as torch's default generator); used as "
        "an index, which device indexing accepts",
    ("nn/modules/batchnorm.py", "_NormBase._load_from_state_dict", "tensor"):
        "torch's own CPU num_batches_tracked for old checkpoints; loading copies it",
    ("nn/parameter.py", "Parameter.__new__", "empty"): "torch's Parameter() default, on the CPU",
    ("nn/parameter.py", "Buffer.__new__", "empty"): "torch's Buffer() default, on the CPU",
    ("nn/utils/clip_grad.py", "get_total_norm", "_tensor"):
        "torch's own result for no tensors: tensor(0.) on the CPU",
}


def _cpu_tensor_creations(path: Path):
    """(enclosing function, name, line) of leafgrad constructor calls without ``device=``."""
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module \
                and node.module.split(".")[-1] in ("creation", "random"):
            names |= {a.asname or a.name for a in node.names if a.name in TENSOR_CREATORS}
    found = []

    def visit(node, func: str):
        for child in ast.iter_child_nodes(node):
            name = func
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{func}.{child.name}" if func else child.name
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) \
                    and child.func.id in names \
                    and not any(k.arg in ("device", None) for k in child.keywords):
                found.append((func, child.func.id, child.lineno))
            visit(child, name)

    visit(tree, "")
    return found


def test_no_cpu_tensors_made_for_device_inputs():
    """leafgrad.zeros(...) & co. under ops/, nn/, optim/ pass device= (or are allow-listed)."""
    bad, present = [], set()
    for area in AREAS:
        for path in sorted((ROOT / area).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for func, name, line in _cpu_tensor_creations(path):
                present.add((rel, func, name))
                if (rel, func, name) not in ALLOWED_TENSORS:
                    bad.append(f"leafgrad/{rel}:{line} {func or '<module>'}: {name}(...)")
    assert not bad, ("CPU tensors made without device= (pass device=x.device, or add the "
                     "site to ALLOWED_TENSORS with the reason):\n" + "\n".join(bad))
    stale = sorted(k for k in ALLOWED_TENSORS if k not in present)
    assert not stale, f"ALLOWED_TENSORS entries that match no code: {stale}"


def test_guard_sees_a_host_creation(tmp_path):
    """The guard itself: it finds np.zeros / np.asarray / np.random calls and ignores xp ones."""
    p = tmp_path / "m.py"
    p.write_text("import numpy as np\n"
                 "def f(x, xp):\n"
                 "    a = np.zeros(3)\n"
                 "    b = xp.zeros(3)\n"
                 "    c = np.asarray(x)\n"
                 "    d = np.random.rand(2)\n"
                 "    return np.exp(x) + np.zeros_like(x)\n")
    assert [(f, n) for f, n, _ in _host_creations(p)] == [
        ("f", "zeros"), ("f", "asarray"), ("f", "random.rand")]
