#!/usr/bin/env python3
"""FQ6 golden vectors: an independent NumPy implementation of docs/FQ6.md.

Written from docs/FQ6.md alone (sections 1-7), not from the Java code, so that the Java
quantizers and every backend can be checked against a second implementation of the contract.

    python3 tools/golden/fq6_golden.py [OUT_DIR]

OUT_DIR defaults to conformance-tests/src/main/resources/golden (relative to the repository root).
The output is deterministic: running it again gives the same bytes (checked by --check, which
regenerates into a temporary folder and compares).

Each case is a folder holding little-endian raw arrays and a manifest, case.txt, naming every file,
its dtype and shape (row-major):

    w.f32              [N, K]            float32 weights (inputs)
    x.f32              [T, K]            float32 activations (inputs)
    fq6_rtn.bin        [N*groups*98]     FQ6 tensor bytes, RTN scales (section 2, 7)
    fq6_clip.bin       [N*groups*98]     FQ6 tensor bytes, clipping search, default grid 1.00..0.80
    wcodes_clip.i8     [N, groups*128]   weight codes of fq6_clip.bin, unpacked, padding 0
    acodes_a6.i8       [T, groups*128]   A6 activation codes (section 3), padding 0
    ascales_a6.f32     [T, groups]       A6 scales sa
    partials_a6.i32    [T, N, groups]    integer partials of fq6_clip x A6 (section 4)
    y_a6.f32           [T, N]            fp32 epilogue in group order (section 5)
    acodes_a8.i8 ascales_a8.f32 partials_a8.i32 y_a8.f32     the same for A8
    y_a16.f64          [T, N]            W6A16 in float64: sum_k (code * sw) * x  (section 3, last item)
    ysum_a16.f64       [T, N]            sum_k |code * sw * x| (scale of the W6A16 rounding bound)

Inputs are random (numpy PCG64, seeds in CASES) with hand-made edge cases written into fixed
places; see make_weights / make_activations. A case whose clipping search has a near tie between
two different scales (relative difference of the squared errors below 1e-9) is refused, so the
golden scales do not depend on the summation order of the error.
"""

import hashlib
import os
import shutil
import sys
import tempfile

import numpy as np

G = 128
f32 = np.float32
f16 = np.float16

# name, K (cols), N (rows), T (tokens), seed
CASES = [
    ("k128_n8_t1", 128, 8, 1, 101),
    ("k200_n17_t5", 200, 17, 5, 202),
    ("k384_n32_t16", 384, 32, 16, 303),
    ("k1000_n24_t5", 1000, 24, 5, 404),
    ("k256_n64_t16", 256, 64, 16, 505),
]


# ---------------------------------------------------------------- section 1: rounding

def round_half_away(v):
    """sign(v) * floor(|v| + 0.5) with |v| + 0.5 exact (in float64), for a float32 array."""
    v64 = np.asarray(v, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.copysign(np.floor(np.abs(v64) + 0.5), v64)


def code_of(v, lo, hi):
    """clamp(roundHalfAwayFromZero(v), lo, hi) as int; a NaN v gives 0 (section 6)."""
    r = round_half_away(v)
    nan = np.isnan(r)
    r = np.where(nan, 0.0, r)
    return np.clip(r, lo, hi).astype(np.int64)


# ---------------------------------------------------------------- section 2: weights

def groups_of(k):
    return (k + G - 1) // G


def padded(a, k):
    """[..., K] -> [..., groups, 128] with zero padding."""
    gs = groups_of(k)
    out = np.zeros(a.shape[:-1] + (gs * G,), dtype=a.dtype)
    out[..., :k] = a
    return out.reshape(a.shape[:-1] + (gs, G))


def weight_codes(w, sw):
    """code = clamp(roundHalfAwayFromZero(fp32(w / sw)), -32, 31); 0 where sw == 0. w [.., 128], sw [..]."""
    sw_b = sw[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (w / np.where(sw_b == 0, f32(1), sw_b)).astype(f32)  # fp32 division
    c = code_of(q, -32, 31)
    return np.where(sw_b == 0, 0, c)


def quantize_weights(w, alphas):
    """w [N, K] float32 -> codes [N, groups, 128] int, scale bits [N, groups] uint16.

    For each alpha: s = fp16(fp32(fp32(alpha * absmax) / 31)); sw = fp32(s); codes; squared error
    sum (w - code * sw)^2 over the group's real elements. The smallest error wins; ties keep the
    larger alpha (the earlier one: alphas are descending). alpha = 1 exactly is RTN.
    """
    n, k = w.shape
    wp = padded(w, k)                                        # padding is 0: contributes 0 error, 0 absmax
    absmax = np.max(np.abs(wp), axis=-1).astype(f32)         # over real elements (padding is 0)
    best_err = None
    errs = []
    cand = []
    for a in alphas:
        s = ((f32(a) * absmax).astype(f32) / f32(31)).astype(f32).astype(f16)
        sw = s.astype(f32)
        c = weight_codes(wp, sw)
        deq = (c.astype(f32) * sw[..., None]).astype(f32)    # exact: 6-bit x 11-bit
        e = wp.astype(np.float64) - deq.astype(np.float64)
        err = np.sum(e * e, axis=-1)
        errs.append(err)
        cand.append((s, c))
    errs = np.stack(errs)                                    # [A, N, groups]
    choice = np.argmin(errs, axis=0)                         # first minimum = larger alpha on ties
    # refuse near ties between different scales: the golden must not depend on summation order
    scales_bits = np.stack([s.view(np.uint16) for s, _ in cand])
    best = np.take_along_axis(errs, choice[None], 0)[0]
    best_bits = np.take_along_axis(scales_bits, choice[None], 0)[0]
    for i in range(len(alphas)):
        near = (np.abs(errs[i] - best) <= 1e-9 * best) & (scales_bits[i] != best_bits)
        if np.any(near):
            idx = np.argwhere(near)[0]
            raise SystemExit(f"near tie in the clipping search at row {idx[0]}, group {idx[1]}, alpha {alphas[i]}")
    codes = np.zeros(wp.shape, dtype=np.int64)
    bits = np.zeros(absmax.shape, dtype=np.uint16)
    for i, (s, c) in enumerate(cand):
        m = choice == i
        codes[m] = c[m]
        bits[m] = s.view(np.uint16)[m]
    return codes, bits


def alpha_grid():
    """alpha_i = (100 - i) / 100 in fp32, i = 0..20."""
    return [f32(100 - i) / f32(100) for i in range(21)]


# ---------------------------------------------------------------- section 7: FQ6 bytes

def pack_fq6(codes, bits):
    """codes [N, groups, 128], bits [N, groups] -> bytes: [codes plane][fp16 LE scales plane]."""
    n, gs, _ = codes.shape
    c = (codes & 63).astype(np.uint32).reshape(n, gs, 32, 4)
    word = c[..., 0] | (c[..., 1] << 6) | (c[..., 2] << 12) | (c[..., 3] << 18)    # [N, groups, 32]
    b = np.stack([word & 255, (word >> 8) & 255, (word >> 16) & 255], axis=-1).astype(np.uint8)
    codes_plane = b.reshape(n * gs * 96)                     # (r * groups + g) * 96 + 3j + byte
    scales_plane = bits.astype("<u2").reshape(-1).view(np.uint8)
    return codes_plane.tobytes() + scales_plane.tobytes()


def unpack_fq6(data, n, k):
    """Inverse of pack_fq6 (used to check the packer against its own spec)."""
    gs = groups_of(k)
    raw = np.frombuffer(data, dtype=np.uint8)
    cp = raw[: n * gs * 96].reshape(n, gs, 32, 3).astype(np.int64)
    word = cp[..., 0] | (cp[..., 1] << 8) | (cp[..., 2] << 16)
    c = np.stack([(word >> (6 * i)) & 63 for i in range(4)], axis=-1)
    c = np.where(c >= 32, c - 64, c)                         # sign-extend 6 bits
    bits = raw[n * gs * 96:].view("<u2").reshape(n, gs)
    return c.reshape(n, gs, G), bits


# ---------------------------------------------------------------- section 3: activations

def quantize_activations(x, q):
    """x [T, K] float32 -> codes [T, groups, 128], sa [T, groups] float32."""
    t, k = x.shape
    xp = padded(x, k)
    amax = np.max(np.abs(xp), axis=-1).astype(f32)
    zero = amax == 0
    safe = np.where(zero, f32(1), amax)
    with np.errstate(over="ignore", divide="ignore"):
        sa = (safe / f32(q)).astype(f32)                     # fp32(amax / Q)
        inv = (f32(q) / safe).astype(f32)                    # fp32(Q / amax), may overflow to inf
    with np.errstate(invalid="ignore", over="ignore"):
        v = (xp * inv[..., None]).astype(f32)                # one fp32 multiply; 0 * inf = NaN -> code 0
    c = code_of(v, -(q + 1), q)
    c = np.where(zero[..., None], 0, c)
    sa = np.where(zero, f32(0), sa).astype(f32)
    return c, sa


# ---------------------------------------------------------------- sections 4, 5: partials, epilogue

def partials(wcodes, acodes):
    """P[t][r][g] = sum_k wcode[r][g][k] * acode[t][g][k], exact, as int32."""
    p = np.einsum("rgk,tgk->trg", wcodes.astype(np.int64), acodes.astype(np.int64))
    assert np.all(np.abs(p) <= 2 ** 19)
    return p.astype(np.int32)


def epilogue(p, sw, sa):
    """y[t][r] = sum_g in order of fp32(P) * fp32(sw[r][g] * sa[t][g]), fp32, from +0, no FMA."""
    t, n, gs = p.shape
    y = np.zeros((t, n), dtype=f32)
    for g in range(gs):
        s = (sw[None, :, g] * sa[:, None, g]).astype(f32)
        y = (y + (p[:, :, g].astype(f32) * s).astype(f32)).astype(f32)
    return y


# ---------------------------------------------------------------- inputs

def ties(scale, count, lo, hi):
    """Values around half-integers of `scale` (a power of two): k + 0.5 exactly, just below, just above."""
    out = []
    k = lo
    while len(out) < count:
        h = f32((k + 0.5) * scale)
        out += [h, np.nextafter(h, f32(0)), np.nextafter(h, f32(np.copysign(np.inf, h)))]
        k = k + 1 if k + 1 < hi else lo
    return np.array(out[:count], dtype=f32)


def make_weights(rng, n, k):
    """Random rows with per-row magnitudes over 2^-8..2^4 and a few outliers; edge rows:
    row 0: group 0 all zero (sw = 0), row 1: RTN ties (absmax 31 * 2^-4, values (j + 0.5) 2^-4, and
    the floats just beside them), row 2: tiny values whose scales are fp16 subnormal (absmax 1e-5
    and 2e-6), row 3: one huge value (1000) among ordinary ones (clipping clamps it to 31)."""
    w = rng.standard_normal((n, k)).astype(np.float64)
    w *= np.exp2(rng.integers(-8, 5, size=(n, 1)))
    out = rng.random((n, k)) < 0.01
    w[out] *= 8
    w = w.astype(f32)
    m = min(k, G)
    if n > 0:
        w[0, :m] = 0
    if n > 1:
        t = ties(f32(2.0 ** -4), m, -31, 31)
        t[0] = f32(31 * 2.0 ** -4)                             # absmax: RTN scale exactly 2^-4
        w[1, :m] = t
    if n > 2:
        w[2, :m] = (rng.standard_normal(m) * 3e-6).astype(f32)
        w[2, 0] = f32(1e-5)
        if k > G:
            w[2, G:min(k, 2 * G)] = (rng.standard_normal(min(k, 2 * G) - G) * 5e-7).astype(f32)
            w[2, G] = f32(2e-6)
    if n > 3:
        w[3, m // 2] = f32(1000)
    return w


def make_activations(rng, t, k):
    """Random tokens with per-token magnitudes over 2^-6..2^6 and outliers x20; edge tokens:
    token 0 group 0 all zero (sa = 0), token 1 group 0: A6 ties (amax 31 * 2^-3, so inv = 2^3 exactly),
    token 2 group 0: A8 ties (amax 127 * 2^-5), token 3 group 0: amax 1.5 * 2^-126, so Q / amax
    overflows to infinity: non-zero elements clamp to Q / -(Q + 1), zeros are NaN and get code 0
    (section 6); other groups of these tokens are random."""
    x = rng.standard_normal((t, k)).astype(np.float64)
    x *= np.exp2(rng.integers(-6, 7, size=(t, 1)))
    out = rng.random((t, k)) < 0.02
    x[out] *= 20
    x = x.astype(f32)
    m = min(k, G)
    if t > 1:
        x[0, :m] = 0
    if t > 1:
        v = ties(f32(2.0 ** -3), m, -31, 31)
        v[1] = f32(31 * 2.0 ** -3)
        x[1, :m] = v
    if t > 2:
        v = ties(f32(2.0 ** -5), m, -127, 127)
        v[1] = f32(-127 * 2.0 ** -5)
        x[2, :m] = v
    if t > 3:
        tiny = f32(2.0 ** -126)
        v = np.array([0, tiny, -tiny, f32(1.25) * tiny, -f32(1.5) * tiny, 0, f32(1.5) * tiny, -tiny], dtype=f32)
        x[3, :m] = np.resize(v, m)
    return x


# ---------------------------------------------------------------- one case

def write(path, arr):
    with open(path, "wb") as f:
        f.write(arr.tobytes())


def make_case(out, name, k, n, t, seed):
    rng = np.random.Generator(np.random.PCG64(seed))
    w = make_weights(rng, n, k)
    x = make_activations(rng, t, k)
    gs = groups_of(k)
    d = os.path.join(out, name)
    os.makedirs(d)
    files = []

    def put(fname, arr, dtype, shape, what):
        a = np.ascontiguousarray(arr, dtype=dtype)
        assert a.shape == tuple(shape), (fname, a.shape, shape)
        write(os.path.join(d, fname), a)
        files.append((fname, np.dtype(dtype).name, "x".join(map(str, shape)), what))

    put("w.f32", w, "<f4", (n, k), "weights")
    put("x.f32", x, "<f4", (t, k), "activations")

    rtn_codes, rtn_bits = quantize_weights(w, [f32(1)])
    clip_codes, clip_bits = quantize_weights(w, alpha_grid())
    for label, c, b in (("rtn", rtn_codes, rtn_bits), ("clip", clip_codes, clip_bits)):
        blob = pack_fq6(c, b)
        assert len(blob) == n * gs * 98
        c2, b2 = unpack_fq6(blob, n, k)
        assert np.array_equal(c2, c) and np.array_equal(b2, b)
        put(f"fq6_{label}.bin", np.frombuffer(blob, dtype=np.uint8), "u1", (n * gs * 98,),
            f"FQ6 tensor bytes, {'RTN' if label == 'rtn' else 'clipping search 1.00..0.80'}")
    put("wcodes_clip.i8", clip_codes.reshape(n, gs * G), "i1", (n, gs * G), "weight codes of fq6_clip.bin")

    sw = clip_bits.view(f16).astype(f32)                     # [N, groups]
    for q, label in ((31, "a6"), (127, "a8")):
        ac, sa = quantize_activations(x, q)
        p = partials(clip_codes, ac)
        y = epilogue(p, sw, sa)
        put(f"acodes_{label}.i8", ac.reshape(t, gs * G), "i1", (t, gs * G), f"{label.upper()} activation codes")
        put(f"ascales_{label}.f32", sa, "<f4", (t, gs), f"{label.upper()} activation scales sa")
        put(f"partials_{label}.i32", p, "<i4", (t, n, gs), f"P[t][r][g], fq6_clip x {label.upper()}")
        put(f"y_{label}.f32", y, "<f4", (t, n), f"fp32 epilogue, W6{label.upper()}")

    deq = (clip_codes.astype(np.float64) * sw[..., None].astype(np.float64)).reshape(n, gs * G)[:, :k]
    y16 = x.astype(np.float64) @ deq.T
    ysum = np.abs(x.astype(np.float64)) @ np.abs(deq).T
    put("y_a16.f64", y16, "<f8", (t, n), "W6A16 in float64")
    put("ysum_a16.f64", ysum, "<f8", (t, n), "sum_k |code * sw * x|")

    with open(os.path.join(d, "case.txt"), "w") as f:
        f.write("# FQ6 golden vectors from tools/golden/fq6_golden.py (an independent NumPy implementation of docs/FQ6.md)\n")
        f.write(f"name {name}\nK {k}\nN {n}\nT {t}\ngroups {gs}\nseed {seed}\n")
        for fname, dt, shape, what in files:
            digest = hashlib.sha256(open(os.path.join(d, fname), "rb").read()).hexdigest()[:16]
            f.write(f"file {fname} {dt} {shape} sha256:{digest} {what}\n")


def generate(out):
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for c in CASES:
        make_case(out, *c)
    with open(os.path.join(out, ".gitattributes"), "w") as f:
        f.write("* binary\n*.txt text eol=lf\n")                 # no line-ending conversion of raw arrays
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("# one folder per case; see tools/golden/fq6_golden.py\n")
        for c in CASES:
            f.write(c[0] + "\n")


def main(argv):
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    default = os.path.join(root, "conformance-tests", "src", "main", "resources", "golden")
    if len(argv) > 1 and argv[1] == "--check":
        with tempfile.TemporaryDirectory() as tmp:
            generate(os.path.join(tmp, "golden"))
            same = True
            for c in CASES:
                for fname in sorted(os.listdir(os.path.join(tmp, "golden", c[0]))):
                    a = open(os.path.join(tmp, "golden", c[0], fname), "rb").read()
                    p = os.path.join(default, c[0], fname)
                    if not os.path.exists(p) or open(p, "rb").read() != a:
                        print("differs:", os.path.join(c[0], fname))
                        same = False
            print("golden files reproduce" if same else "golden files differ")
            return 0 if same else 1
    out = argv[1] if len(argv) > 1 else default
    generate(out)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs)
    print(f"wrote {len(CASES)} cases to {out}: {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
