"""PyTorch's CPU random engine (mt19937 plus the Box-Muller cache) and its state layout."""

from __future__ import annotations

import math
import os
import struct

import numpy as np

from . import _libm
from .backend import array_module, is_device_array

# NOTE: PyTorch's default CPU generator starts from this seed (c10::default_rng_seed_val), so
# a fresh process draws the same numbers in both libraries even without manual_seed.
DEFAULT_SEED = 67280421310721

_N = 624  # mt19937 state words
# PyTorch's state tensor: CPUGeneratorImplState = { THGeneratorState legacy_pod; float
# next_float_normal_sample; bool is_next_float_normal_sample_valid; } with THGeneratorState =
# { uint64 the_initial_seed; int left; int seeded; uint64 next; uint64 state[624]; double
# normal_x, normal_y, normal_rho; int normal_is_valid; }, padded to 8 bytes.
_HEAD = struct.Struct("<QiiQ")
_TAIL = struct.Struct("<dddi4xf?3x")
STATE_SIZE = _HEAD.size + 8 * _N + _TAIL.size  # 5056 bytes
_M32 = np.uint64(0xFFFFFFFF)
_M21 = np.uint64(0x1FFFFF)  # the bits of a 64-bit draw's high word that a 53-bit uniform keeps
_SH32 = np.uint64(32)


def _seed_key(seed: int) -> np.ndarray:
    """The 624-word mt19937 key for ``seed`` (init_genrand on its low 32 bits)."""
    key = [seed & 0xFFFFFFFF]
    for j in range(1, _N):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF)
    return np.array(key, dtype=np.uint32)


class Engine:
    """mt19937 words in bulk (NumPy's MT19937 runs the twister) plus PyTorch's cached normals.

    >>> e = Engine(); e.manual_seed(0); int(e.random32(1)[0])
    2357136044
    """

    __slots__ = ("_twister", "initial_seed", "fresh", "next_double_normal", "next_float_normal")

    def __init__(self, seed: int = DEFAULT_SEED):
        self.manual_seed(seed)

    @property
    def _bg(self):
        """NumPy's MT19937, made on first use: ``numpy.random`` is not loaded at import."""
        bg = self._twister
        if bg is None:
            bg = self._twister = np.random.MT19937(0)
            bg.state = {"bit_generator": "MT19937",
                        "state": {"key": _seed_key(self.initial_seed), "pos": _N}}
        return bg

    def manual_seed(self, seed: int) -> None:
        """Seed as ``CPUGeneratorImpl::set_current_seed``: reset the key and drop cached normals."""
        self.initial_seed = seed
        self._twister = None  # seeded from initial_seed when first drawn from (see _bg)
        # PyTorch records left=1, next=0 right after seeding; kept so states compare byte for byte.
        self.fresh = True
        self.next_double_normal = None
        self.next_float_normal = None

    def random32(self, n: int) -> np.ndarray:
        """``n`` successive ``CPUGeneratorImpl::random()`` words as uint64 values below 2**32."""
        if n:
            self.fresh = False
        return self._bg.random_raw(n)

    def random64(self, n: int) -> np.ndarray:
        """``n`` successive ``random64()`` values: two words each, the first one the high half."""
        if n == 0:
            return np.zeros(0, np.uint64)
        w = self.random32(2 * n)
        return (w[0::2] << _SH32) | w[1::2]

    def clone(self) -> Engine:
        """An independent copy with the same state."""
        other = Engine.__new__(Engine)
        other._twister = None
        if self._twister is not None:
            other._twister = np.random.MT19937(0)
            other._twister.state = self._twister.state
        for name in ("initial_seed", "fresh", "next_double_normal", "next_float_normal"):
            setattr(other, name, getattr(self, name))
        return other

    def get_state(self) -> bytes:
        """The state in PyTorch's byte layout (``torch.get_rng_state()``'s 5056 bytes)."""
        st = self._bg.state["state"]
        pos = int(st["pos"])
        # mt19937's `left` counts down to a refill at 1; NumPy's `pos` counts up to one at 624.
        left, nxt = _N + 1 - pos, pos
        if self.fresh:
            left, nxt = 1, 0
        words = np.asarray(st["key"], dtype="<u8").tobytes()
        dn, fn = self.next_double_normal, self.next_float_normal
        tail = _TAIL.pack(0.0, dn if dn is not None else 0.0, 0.0, dn is not None,
                          fn if fn is not None else 0.0, fn is not None)
        return _HEAD.pack(self.initial_seed, left, 1, nxt) + words + tail

    def set_state(self, state: bytes) -> None:
        """Load a state written by :meth:`get_state` or by ``torch.get_rng_state()``."""
        if len(state) != STATE_SIZE:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {STATE_SIZE} but found the input RNG "
                f"state size to be {len(state)}; pass a tensor from get_rng_state() or "
                "Generator.get_state() (leafgrad's or PyTorch's)"
            )
        seed, left, seeded, nxt = _HEAD.unpack_from(state, 0)
        if not (seeded and 0 < left <= _N and nxt <= _N):
            raise RuntimeError(
                "Invalid mt19937 state: expected seeded=1, 0 < left <= 624 and next <= 624, got "
                f"seeded={seeded}, left={left}, next={nxt}; the tensor is not a saved RNG state"
            )
        key = np.frombuffer(state, dtype="<u8", count=_N, offset=_HEAD.size)
        self.initial_seed = seed
        self._bg.state = {"bit_generator": "MT19937",
                          "state": {"key": (key & _M32).astype(np.uint32), "pos": _N + 1 - left}}
        self.fresh = left == 1 and nxt == 0
        _, ny, _, nvalid, fval, fvalid = _TAIL.unpack_from(state, _HEAD.size + 8 * _N)
        # NOTE: PyTorch restores the cached Box-Muller sample from normal_y as it is (normal_x
        # and normal_rho are legacy fields it writes as 0 and ignores).
        self.next_double_normal = ny if nvalid else None
        self.next_float_normal = fval if fvalid else None


def nondeterministic_seed() -> int:
    """A 64-bit seed from the OS entropy pool, as ``Generator.seed()`` draws one."""
    return int.from_bytes(os.urandom(8), "little")


# ---------------------------------------------------------------------------------------------
# Exact float arithmetic: PyTorch's kernels are compiled with FMA contraction, so `x * a + b`
# rounds once. NumPy has no fma, so these emulate it exactly with error-free transformations.


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _round_to_odd(s, err):
    """Replace a round-to-nearest ``s`` of ``s + err`` by the round-to-odd result."""
    bits = s.view(np.int64)
    fix = (err != 0) & ((bits & 1) == 0)
    if fix.any():
        s = np.where(fix, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
    return s


_TINY32 = 1.1754943508222875e-38  # smallest normal float32


def fma32(a, b, c) -> np.ndarray:
    """float32 ``a * b + c`` rounded once, like the ``vfmadd`` PyTorch's AVX2 kernels emit.

    >>> import numpy as np; fma32(np.float32(0.1), np.float32(3), np.float32(-0.3)).dtype
    dtype('float32')
    """
    # A float32 product is exact in float64, so only the float64 sum rounds; rounding that sum
    # to float32 is then correct unless it landed exactly on a float32 midpoint (a tie the
    # float64 rounding may have created). Those rare elements are redone with round-to-odd.
    p = np.multiply(a, b, dtype=np.float64)
    c = np.asarray(c, np.float64)
    s = np.asarray(p + c)
    suspect = (s.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    suspect |= (np.abs(s) < _TINY32) & (s != 0)  # float32 subnormals have other midpoints
    if suspect.any():
        pp, cc = np.broadcast_to(p, s.shape)[suspect], np.broadcast_to(c, s.shape)[suspect]
        ss, err = _two_sum(pp, cc)
        s = s.copy()
        s[suspect] = _round_to_odd(ss, err)
    return s.astype(np.float32)


_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's splitter for float64


def _split(a):
    t = _SPLIT * a
    hi = t - (t - a)
    return hi, a - hi


def fma64(a, b, c) -> np.ndarray:
    """float64 ``a * b + c`` rounded once (Boldo and Melquiond's emulated FMA via round-to-odd).

    >>> float(fma64(0.1, 10.0, -1.0))
    5.551115123125783e-17
    """
    # the arrays' module: NumPy, or the device's when an operand lives on one (optimizer steps)
    xp = next((array_module(x) for x in (a, b, c) if is_device_array(x)), np)
    a = xp.asarray(a, np.float64)
    b = xp.asarray(b, np.float64)
    c = xp.asarray(c, np.float64)
    ph = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl  # a*b == ph + pl exactly (Dekker)
    th, tl = _two_sum(c, ph)
    v, err = _two_sum(tl, pl)
    return th + _round_to_odd(xp.asarray(v), err)


# ---------------------------------------------------------------------------------------------
# Which of PyTorch's CPU kernels to reproduce. ATen compiles its sampling kernels once per CPU
# capability and picks one at start-up; two things differ between the builds: whether `a*b+c`
# is contracted into an FMA (the AVX2/AVX-512 builds are compiled with -mfma, the x86 default
# build is not; ARM compilers contract by default), and how float32 `normal_` does Box-Muller
# for >= 16 elements (code under `#ifdef __AVX2__` uses avx_mathfun's log256_ps/sincos256_ps, the
# others call the C library's logf/cosf/sinf). NOTE: the AVX-512 build is compiled with
# -mavx512f, which implies AVX2 and defines __AVX2__, so it takes the AVX2 path too (checked
# against torch 2.13 on an AVX-512 CPU, with and without ATEN_CPU_CAPABILITY=avx2).


def _is_x86() -> bool:
    import platform  # noqa: PLC0415 - needed once, at import

    return platform.machine().lower() in ("x86_64", "amd64", "x86", "i386", "i686")


def _detect_capability() -> str:
    """The ATen CPU capability PyTorch would pick here: 'avx2', 'avx512' or 'default'."""
    if not _is_x86():
        return "default"
    env = os.environ.get("ATEN_CPU_CAPABILITY", "").lower()  # PyTorch's own override
    if env in ("default", "avx2", "avx512"):
        return env
    try:  # NumPy's own CPU feature probe (private, but present in NumPy 1.x and 2.x)
        from numpy._core._multiarray_umath import __cpu_features__ as feats  # noqa: PLC0415
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as feats  # noqa: PLC0415
        except ImportError:
            return "avx2"
    if all(feats.get(f) for f in ("AVX512VL", "AVX512BW", "AVX512DQ", "FMA3")):
        return "avx512"
    if feats.get("AVX2") and feats.get("FMA3"):
        return "avx2"
    return "default"


CAPABILITY = _detect_capability()
# Only x86's default build lacks FMA contraction; ARM compilers contract a*b+c by default.
FUSED = CAPABILITY != "default" or not _is_x86()
AVX2_NORMAL = CAPABILITY in ("avx2", "avx512")


def _mul_add(a, b, c, dtype):
    """``a * b + c`` as PyTorch's compiled kernel rounds it (one rounding when contracted)."""
    if FUSED:
        return fma32(a, b, c) if dtype == np.float32 else fma64(a, b, c)
    return a * b + c


# ---------------------------------------------------------------------------------------------
# Uniform bits. PyTorch takes the low `digits` bits of one 32-bit word (float, half: 24 bits) or
# of one 64-bit draw (double: 53 bits) and scales them into [0, 1).

_M24 = np.uint64((1 << 24) - 1)
_M53 = np.uint64((1 << 53) - 1)
_F24 = np.float32(2.0**-24)


def uniform01_f32(engine: Engine, n: int) -> np.ndarray:
    """``n`` float32 uniforms in [0, 1): ``uniform_real_distribution<float>(0, 1)``."""
    return (engine.random32(n) & _M24).astype(np.float32) * _F24


def uniform01_f64(engine: Engine, n: int) -> np.ndarray:
    """``n`` float64 uniforms in [0, 1): ``uniform_real_distribution<double>(0, 1)``."""
    return (engine.random64(n) & _M53).astype(np.float64) * 2.0**-53


def uniform(engine: Engine, n: int, dtype: np.dtype, low: float, high: float) -> np.ndarray:
    """PyTorch's ``uniform_kernel``: ``n`` values in [low, high) of a float dtype."""
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        x = uniform01_f64(engine, n)
        frm, to = np.float64(low), np.float64(high)
    else:  # float32 and float16 both compute in float32 (PyTorch's opmath type)
        x = uniform01_f32(engine, n)
        frm, to = np.float32(low), np.float32(high)
    if frm == 0 and to == 1:
        out = x
    else:
        out = _mul_add(x, to - frm, frm, x.dtype)
    out = out.astype(dtype, copy=False)
    # NOTE: PyTorch maps a value that rounds up to `high` (in the output dtype) back to `low`,
    # so the interval stays half-open for float16 and for ranges where the fma rounds up.
    to_s, from_s = dtype.type(high), dtype.type(low)
    hit = out == to_s
    if hit.any():
        out = np.where(hit, from_s, out)
    return out


# ---------------------------------------------------------------------------------------------
# Normal. PyTorch has two paths: `normal_fill` (contiguous tensors of >= 16 elements: all the
# uniforms first, Box-Muller on blocks of 16 (8 pairs, u1 from the first half, u2 from the
# second), then 16 fresh uniforms for the last 16 slots when the size is not a multiple of 16)
# and the scalar `normal_distribution<double>` (everything else: pairs of double uniforms, cosine
# sample returned, sine sample cached in the generator for the next call).


def _c32(v):
    return np.float32(v)


_LOG_P = [_c32(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1,
                            -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
                            2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_LOG_Q1, _LOG_Q2 = _c32(-2.12194440e-4), _c32(0.693359375)
_SQRTHF = _c32(0.707106781186547524)
_DP1, _DP2, _DP3 = _c32(-0.78515625), _c32(-2.4187564849853515625e-4), _c32(-3.77489497744594108e-8)
_SIN_P = [_c32(v) for v in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_COS_P = [_c32(v) for v in (2.443315711809948e-005, -1.388731625493765e-003,
                            4.166664568298827e-002)]
_FOPI = _c32(1.27323954473516)
_ONE, _HALF = _c32(1.0), _c32(0.5)


def _log256_ps(x: np.ndarray) -> np.ndarray:
    """avx_mathfun's ``log256_ps`` (Cephes logf) in float32, with the FMAs GCC contracts."""
    bits = np.maximum(x, np.float32(1.1754943508222875e-38)).view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(np.float32) + _ONE
    m = ((bits & ~0x7F800000) | 0x3F000000).view(np.float32)  # mantissa scaled into [0.5, 1)
    small = m < _SQRTHF
    x = (m - _ONE) + np.where(small, m, _c32(0))
    e = e - np.where(small, _ONE, _c32(0))
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = fma32(y, x, p)
    y = fma32(y * x, z, e * _LOG_Q1)
    y = fma32(-z, _HALF, y)
    return fma32(e, _LOG_Q2, x + y)


def _sincos256_ps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """avx_mathfun's ``sincos256_ps`` (Cephes sinf/cosf) in float32 for x >= 0."""
    j = (x * _FOPI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    x = fma32(y, _DP3, fma32(y, _DP2, fma32(y, _DP1, x)))  # extended-precision reduction
    sin_neg = (j & 4) != 0
    cos_neg = (~(j - 2) & 4) != 0
    use_sin_poly = (j & 2) == 0
    z = x * x
    yc = np.full_like(x, _COS_P[0])
    ys = np.full_like(x, _SIN_P[0])
    for pc, ps in zip(_COS_P[1:], _SIN_P[1:]):
        yc = fma32(yc, z, pc)
        ys = fma32(ys, z, ps)
    yc = fma32(yc * z, z, -(z * _HALF)) + _ONE
    ys = fma32(ys * z, x, x)
    s = np.where(use_sin_poly, ys, yc)
    c = np.where(use_sin_poly, yc, ys)
    return np.where(sin_neg, -s, s), np.where(cos_neg, -c, c)


def _box_muller16_f32(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    """``NormalFill16<float>`` on rows of 16 float32 uniforms."""
    u1 = _ONE - blocks[:, :8]
    u2 = blocks[:, 8:]
    if AVX2_NORMAL:
        radius = np.sqrt(_c32(-2.0) * _log256_ps(u1))
        s, c = _sincos256_ps(_c32(2.0 * np.pi) * u2)
    else:
        # NOTE: the generic build calls glibc's logf/cosf/sinf; rounding the float64 results
        # agrees with them except where they are not correctly rounded (within 1 ulp).
        radius = np.sqrt(_c32(-2.0) * _libm.log(u1.astype(np.float64)).astype(np.float32))
        theta = (2.0 * np.pi * u2.astype(np.float64)).astype(np.float32).astype(np.float64)
        c, s = _libm.cos(theta).astype(np.float32), _libm.sin(theta).astype(np.float32)
    n1, n2 = radius * c, radius * s
    if mean != 0 or std != 1:  # an explicit fma in every build
        m, sd = _c32(mean), _c32(std)
        n1, n2 = fma32(n1, sd, m), fma32(n2, sd, m)
    return np.concatenate([n1, n2], axis=1)


def _box_muller16_f64(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    """``NormalFill16<double>`` on rows of 16 float64 uniforms."""
    # the C library's log/cos/sin, as PyTorch's std::log etc. (NumPy's AVX-512 ones can differ)
    radius = np.sqrt(-2.0 * _libm.log(1.0 - blocks[:, :8]))
    theta = 2.0 * np.pi * blocks[:, 8:]
    n1, n2 = radius * _libm.cos(theta), radius * _libm.sin(theta)
    if mean != 0 or std != 1:
        n1, n2 = fma64(n1, std, mean), fma64(n2, std, mean)
    return np.concatenate([n1, n2], axis=1)


def normal_fill(engine: Engine, n: int, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    """PyTorch's ``normal_fill`` (contiguous tensors, n >= 16): ``n`` normals of ``dtype``."""
    dtype = np.dtype(dtype)
    full = n - n % 16
    if dtype == np.float64:
        out = uniform01_f64(engine, n)
        out[:full] = _box_muller16_f64(out[:full].reshape(-1, 16), mean, std).ravel()
        if n % 16:
            tail = uniform01_f64(engine, 16).reshape(1, 16)
            out[n - 16:] = _box_muller16_f64(tail, mean, std).ravel()
        return out
    if dtype == np.float32:
        out = uniform01_f32(engine, n)
        out[:full] = _box_muller16_f32(out[:full].reshape(-1, 16), mean, std).ravel()
        if n % 16:
            tail = uniform01_f32(engine, 16).reshape(1, 16)
            out[n - 16:] = _box_muller16_f32(tail, mean, std).ravel()
        return out
    # NOTE: float16 goes through a 16-float buffer, so unlike float32 the 16 uniforms for the
    # tail are drawn right after the full blocks' (not after all n).
    u = uniform01_f32(engine, full + (16 if n % 16 else 0)).reshape(-1, 16)
    vals = _box_muller16_f32(u, mean, std).astype(dtype)
    out = np.empty(n, dtype)
    out[:full] = vals[: full // 16].ravel()
    if n % 16:
        out[n - 16:] = vals[-1]
    return out


def normal_scalar(engine: Engine, n: int, mean: float, std: float) -> np.ndarray:
    """``n`` draws of ``normal_distribution<double>``, using and refilling the cached sample."""
    out = np.empty(n, np.float64)
    start = 0
    if n and engine.next_double_normal is not None:
        out[0] = engine.next_double_normal
        engine.next_double_normal = None
        start = 1
    m = n - start
    pairs = (m + 1) // 2
    if pairs:
        u = uniform01_f64(engine, 2 * pairs).reshape(pairs, 2)
        r = np.sqrt(-2.0 * _libm.log1p(-u[:, 1]))
        theta = 2.0 * np.pi * u[:, 0]
        vals = np.stack([r * _libm.cos(theta), r * _libm.sin(theta)], axis=1).ravel()
        out[start:] = vals[:m]
        if m % 2:
            engine.next_double_normal = float(vals[-1])
    if mean != 0 or std != 1:
        out = _mul_add(out, std, mean, np.float64)
    return out


def normal(engine: Engine, n: int, dtype: np.dtype, mean: float, std: float,
           contiguous: bool = True) -> np.ndarray:
    """PyTorch's ``normal_kernel``: picks the block or the scalar path like it does."""
    if n >= 16 and contiguous:
        return normal_fill(engine, n, dtype, mean, std)
    return normal_scalar(engine, n, mean, std).astype(dtype)


# ---------------------------------------------------------------------------------------------
# Integers.


def random_from_to(engine: Engine, n: int, range_: int, base: int) -> np.ndarray:
    """``uniform_int_from_to_distribution``: ``(word % range) + base`` as int64."""
    # NOTE: PyTorch switches to 64-bit draws at range >= 2**28 (to keep the modulo bias small),
    # not at 2**32.
    words = engine.random64(n) if range_ >= 1 << 28 else engine.random32(n)
    return ((words % np.uint64(range_)) + np.uint64(base & 0xFFFFFFFFFFFFFFFF)).view(np.int64)


def random_full_range(engine: Engine, n: int) -> np.ndarray:
    """``uniform_int_full_range_distribution``: a 64-bit draw read as int64."""
    return engine.random64(n).view(np.int64)


# modulus of `random_()` with no bounds for each dtype, and whether it draws 64 bits
_RANDOM_DEFAULT = {
    "int64": (1 << 63, True), "float64": ((1 << 53) + 1, True),
    "int32": (1 << 31, False), "int16": (1 << 15, False), "int8": (1 << 7, False),
    "uint8": (1 << 8, False), "float32": ((1 << 24) + 1, False), "float16": ((1 << 11) + 1, False),
}


def random_default(engine: Engine, n: int, dtype: np.dtype) -> np.ndarray:
    """``uniform_int_distribution<T>``: ``random_()`` with no bounds, in ``dtype``."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return (engine.random32(n) & np.uint64(1)).astype(np.bool_)
    mod, wide = _RANDOM_DEFAULT[dtype.name]
    words = engine.random64(n) if wide else engine.random32(n)
    return cast_int64((words % np.uint64(mod)).view(np.int64), dtype)


def cast_int64(v: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``static_cast<T>(int64)`` (float16 via float, as ``c10::Half`` converts)."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return v.astype(np.float32).astype(np.float16)
    return v.astype(dtype)


def randperm(engine: Engine, n: int) -> np.ndarray:
    """PyTorch's ``randperm_cpu``: ``0..n-1`` shuffled, as int64."""
    if n < 0xFFFFFFFF // 20:
        # Fisher-Yates: step i swaps slot i with slot i + (32-bit word % (n - i)).
        if n < 2:
            return np.arange(n, dtype=np.int64)
        z = engine.random32(n - 1)
        steps = np.arange(n - 1, dtype=np.int64)
        k = (z % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64) + steps
        return _swap_batches(k)
    # NOTE: for n >= 2**32 / 20 PyTorch switches to the "inside-out" shuffle with 64-bit draws
    # (r[i] = r[z]; r[z] = i with z = word64 % (i + 1)).
    return _inside_out(engine, n)


_BIG = np.iinfo(np.int64).max


def _first_duplicate(k: np.ndarray) -> int:
    """Index of the first entry equal to an earlier one (entries equal to _BIG ignored)."""
    order = np.argsort(k, kind="stable")
    srt = k[order]
    dup = (srt[1:] == srt[:-1]) & (srt[1:] != _BIG)
    return int(order[1:][dup].min()) if dup.any() else len(k)


def _swap_batches(k: np.ndarray) -> np.ndarray:
    """``for i: swap(r[i], r[k[i]])`` (k[i] >= i) over ``r = arange(len(k) + 1)``, vectorised.

    Consecutive steps that touch disjoint slots commute, so they run as one NumPy fancy-index
    assignment; a batch ends where a step would touch a slot an earlier step of it touched.
    """
    m = len(k)
    n = m + 1
    r = np.arange(n, dtype=np.int64)
    pos_all = np.arange(n, dtype=np.int64)
    a = 0
    while a < m:
        w = min(m - a, max(32, 2 * int(np.sqrt(n - a))))
        pos = pos_all[a:a + w]
        kk = np.where(k[a:a + w] != pos, k[a:a + w], _BIG)
        # a target inside the batch is a later step's own slot: the batch stops before it
        ok = np.minimum.accumulate(kk) > pos
        length = w if ok.all() else int(np.argmin(ok))
        length = max(1, min(length, _first_duplicate(kk[:length])))
        kb = k[a:a + length]
        mine = r[a:a + length].copy()
        r[a:a + length] = r[kb]
        r[kb] = mine
        a += length
    return r


def _inside_out(engine: Engine, n: int, chunk: int = 1 << 22) -> np.ndarray:
    """The inside-out shuffle of ``randperm`` for huge n, in conflict-free batches."""
    r = np.empty(n, dtype=np.int64)
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        idx = np.arange(c0, c1, dtype=np.int64)
        z = (engine.random64(c1 - c0) % (idx + 1).astype(np.uint64)).astype(np.int64)
        a = c0
        while a < c1:
            w = min(c1 - a, max(32, 2 * int(np.sqrt(a + 1))))
            zi = z[a - c0:a - c0 + w]
            pos = idx[a - c0:a - c0 + w]
            zz = np.where(zi != pos, zi, _BIG)
            # a source slot written earlier in the same batch ends it
            inside = (zz >= a) & (zz != _BIG)
            length = int(np.argmax(inside)) if inside.any() else w
            length = max(1, min(length, _first_duplicate(zz[:length])))
            zb, pb = zi[:length], pos[:length]
            other = zb != pb
            r[a:a + length] = np.where(other, r[zb], pb)
            r[zb[other]] = pb[other]
            a += length
    return r


# ---------------------------------------------------------------------------------------------
# PyTorch's CPU topk (TopKImpl.h) ranks (value, index) pairs with libstdc++'s partial_sort
# (k * 64 <= n) or nth_element + sort: not stable, so tied values come out in the order these
# algorithms leave them. A transcription of libstdc++'s code, used only for rows with ties.


def _comp(x, y):
    # torch's topk comparator for largest=True on (value, index) pairs
    xv, yv = x[0], y[0]
    return (xv != xv and yv == yv) or xv > yv


def _lg(n):
    return n.bit_length() - 1


def _push_heap(a, first, hole, top, value):
    parent = (hole - 1) // 2
    while hole > top and _comp(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def _adjust_heap(a, first, hole, length, value):
    top = hole
    second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if _comp(a[first + second], a[first + second - 1]):
            second -= 1
        a[first + hole] = a[first + second]
        hole = second
    if (length & 1) == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        a[first + hole] = a[first + second - 1]
        hole = second - 1
    _push_heap(a, first, hole, top, value)


def _make_heap(a, first, last):
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(a, first, parent, length, a[first + parent])
        if parent == 0:
            return
        parent -= 1


def _pop_heap(a, first, last, result):
    value = a[result]
    a[result] = a[first]
    _adjust_heap(a, first, 0, last - first, value)


def _heap_select(a, first, middle, last):
    _make_heap(a, first, middle)
    for i in range(middle, last):
        if _comp(a[i], a[first]):
            _pop_heap(a, first, middle, i)


def _sort_heap(a, first, last):
    while last - first > 1:
        last -= 1
        _pop_heap(a, first, last, last)


def _stl_partial_sort(a, first, middle, last):
    _heap_select(a, first, middle, last)
    _sort_heap(a, first, middle)


def _move_median_to_first(a, result, i, j, k):
    if _comp(a[i], a[j]):
        if _comp(a[j], a[k]):
            a[result], a[j] = a[j], a[result]
        elif _comp(a[i], a[k]):
            a[result], a[k] = a[k], a[result]
        else:
            a[result], a[i] = a[i], a[result]
    elif _comp(a[i], a[k]):
        a[result], a[i] = a[i], a[result]
    elif _comp(a[j], a[k]):
        a[result], a[k] = a[k], a[result]
    else:
        a[result], a[j] = a[j], a[result]


def _unguarded_partition(a, first, last, pivot):
    while True:
        while _comp(a[first], a[pivot]):
            first += 1
        last -= 1
        while _comp(a[pivot], a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _unguarded_partition_pivot(a, first, last):
    mid = first + (last - first) // 2
    _move_median_to_first(a, first, first + 1, mid, last - 1)
    return _unguarded_partition(a, first + 1, last, first)


def _unguarded_linear_insert(a, last):
    val = a[last]
    nxt = last - 1
    while _comp(val, a[nxt]):
        a[last] = a[nxt]
        last = nxt
        nxt -= 1
    a[last] = val


def _insertion_sort(a, first, last):
    if first == last:
        return
    for i in range(first + 1, last):
        if _comp(a[i], a[first]):
            val = a[i]
            a[first + 1:i + 1] = a[first:i]
            a[first] = val
        else:
            _unguarded_linear_insert(a, i)


def _stl_nth_element(a, first, nth, last):
    if first == last or nth == last:
        return
    depth = _lg(last - first) * 2
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _unguarded_partition_pivot(a, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last)


def _introsort_loop(a, first, last, depth):
    while last - first > 16:
        if depth == 0:
            _stl_partial_sort(a, first, last, last)
            return
        depth -= 1
        cut = _unguarded_partition_pivot(a, first, last)
        _introsort_loop(a, cut, last, depth)
        last = cut


def _stl_sort(a, first, last):
    if first == last:
        return
    _introsort_loop(a, first, last, _lg(last - first) * 2)
    if last - first > 16:
        _insertion_sort(a, first, first + 16)
        for i in range(first + 16, last):
            _unguarded_linear_insert(a, i)
    else:
        _insertion_sort(a, first, last)


def torch_topk(values, k: int) -> list[int]:
    """Indices of the k largest values in the order PyTorch's CPU ``topk`` returns them."""
    a = [(float(v), j) for j, v in enumerate(values)]
    n = len(a)
    if k == 0:
        return []
    if k * 64 <= n:
        _stl_partial_sort(a, 0, k, n)
    else:
        _stl_nth_element(a, 0, k - 1, n)
        _stl_sort(a, 0, k - 1)
    return [j for _, j in a[:k]]


# ---------------------------------------------------------------------------------------------
# Bernoulli, exponential, multinomial.


def bernoulli_scalar(engine: Engine, n: int, p: float) -> np.ndarray:
    """``bernoulli_distribution<double>(p)``: ``n`` booleans from 53-bit uniforms."""
    # NOTE: PyTorch once drew scalar-p Bernoulli (and exponential) from MKL's MCG31 stream on
    # Intel CPUs; public builds compile that out (pytorch#132395), so every CPU takes this path.
    # u < p with u = k·2⁻⁵³ (k the low 53 bits of a 64-bit draw) is k < ceil(p·2⁵³), p·2⁵³
    # being exact: compared on the two 32-bit words, with no float conversion (dropout masks
    # are drawn here; 15% faster than forming u)
    if n == 0:
        return np.zeros(0, bool)
    k = math.ceil(p * 2.0**53)
    k_hi, k_lo = np.uint64(k >> 32), np.uint64(k & 0xFFFFFFFF)
    w = engine.random32(2 * n)
    hi = w[0::2] & _M21
    out = hi < k_hi
    out |= (hi == k_hi) & (w[1::2] < k_lo)
    return out


def bernoulli_tensor(engine: Engine, p: np.ndarray) -> np.ndarray:
    """Per-element p: float64 p draws 53-bit uniforms, other float p 24-bit ones."""
    if p.dtype == np.float64:
        return uniform01_f64(engine, p.size) < p.ravel()
    return uniform01_f32(engine, p.size) < p.ravel().astype(np.float32)


def exponential(engine: Engine, n: int, dtype: np.dtype, lambd: float) -> np.ndarray:
    """``exponential_distribution<double>``: ``-1/lambd * log1p(-u)`` cast to ``dtype``."""
    return ((-1.0 / lambd) * _libm.log1p(-uniform01_f64(engine, n))).astype(dtype)


def _top_k_row(row: np.ndarray, k: int) -> np.ndarray:
    """``topk(row, k).indices`` as PyTorch orders them (ties included)."""
    order = np.argsort(-row, kind="stable")
    top = row[order[: k + 1]]
    if not np.isnan(top).any() and not (top[1:] == top[:-1]).any():
        return order[:k]  # no ties: every correct top-k gives this order
    return np.array(torch_topk(row.astype(np.float64), k))


def multinomial(engine: Engine, p: np.ndarray, n_sample: int, replacement: bool,
                q_order: tuple | None = None) -> np.ndarray:
    """PyTorch's CPU ``multinomial`` on a 2-D probability array: int64 ``(rows, n_sample)``.

    ``q_order`` is the axis order the exponential noise is drawn in (a transposed input's memory
    order; None for row-major).
    """
    if p.shape[0] == 0:
        return np.empty((0, n_sample), np.int64)
    if not replacement or n_sample == 1:
        # NOTE: PyTorch's fast path (Gumbel-max in exponential form): argmax / top-k of p / q
        # with q ~ Exp(1) drawn over an empty_like(p), i.e. in p's memory order.
        q = exponential(engine, p.size, p.dtype, 1.0)
        if q_order is None:
            q = q.reshape(p.shape)
        else:
            q = np.transpose(q.reshape([p.shape[d] for d in q_order]), np.argsort(q_order))
        with np.errstate(divide="ignore", invalid="ignore"):
            q = p / q
        if n_sample == 1:
            return np.argmax(q, axis=-1)[:, None].astype(np.int64)  # first of tied maxima
        return np.stack([_top_k_row(row, n_sample) for row in q]).astype(np.int64)
    acc = np.float64 if p.dtype == np.float64 else np.float32  # float16 sums in float
    out = np.empty((p.shape[0], n_sample), np.int64)
    for i, row in enumerate(p):
        cum = np.cumsum(row.astype(acc), dtype=acc)  # sequential, like the C loop
        cum = cum / cum[-1]
        cum[-1] = 1
        u = uniform01_f64(engine, n_sample)
        # leftmost slot with cum >= u: the kernel's binary search, compared in double
        out[i] = np.searchsorted(cum.astype(np.float64), u, side="left")
    return out
