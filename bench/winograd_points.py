"""Float32 error of Winograd F(4×4, 3×3) for several interpolation-point sets, against a Float64
direct convolution (and F(2×2, 3×3) and direct Float32 for scale). Builds the Toom-Cook matrices
from the points (the last point is ∞), checks them on a 1-D correlation, then runs the
transform–product–transform pipeline with Float32 rounding after each stage, as the Swift kernel does
(the filter transform in Float64, rounded once). The set the kernel uses (0, ±1, 2, −1/2, ∞) is run
a second time in the operation order of Winograd4.swift's factored transforms.

    PY=$(scripts/pyenv.sh); $PY bench/winograd_points.py [--cin 256] [--tiles 400]
"""
import argparse
from fractions import Fraction as F

import numpy as np


def matrices(points, m=4, r=3):
    """Aᵀ (m×n), G (n×r), Bᵀ (n×n) for correlation, n = m + r − 1, points finite + ∞."""
    n = m + r - 1
    assert len(points) == n - 1
    V = np.array([[float(F(a) ** k) for k in range(n)] for a in points] + [[0.0] * (n - 1) + [1.0]])
    f = [np.prod([float(a - b) for b in points if b != a]) for a in points] + [1.0]
    s = 1.0 / np.array(f)
    AT = V[:, :m].T.copy(); AT[:, n - 1] = 0; AT[m - 1, n - 1] = 1
    G = s[:, None] * V[:, :r]; G[n - 1] = 0; G[n - 1, r - 1] = 1
    BT = np.linalg.inv(V).T / s[:, None]
    return AT, G, BT


def check_1d(AT, G, BT):
    rng = np.random.default_rng(0)
    g, d = rng.normal(size=3), rng.normal(size=6)
    ref = np.array([sum(g[k] * d[i + k] for k in range(3)) for i in range(4)])
    return np.abs(AT @ ((G @ g) * (BT @ d)) - ref).max()


def data(cin, cout, tiles, spikes, seed=1):
    rng = np.random.default_rng(seed)
    g = (rng.normal(size=(cout, cin, 3, 3)) / np.sqrt(9 * cin)).astype(np.float32)
    if spikes:  # ternary spikes, 80 % zeros
        d = rng.choice([-1.0, 0.0, 1.0], p=[0.1, 0.8, 0.1], size=(cin, tiles, 6, 6)).astype(np.float32)
    else:
        d = rng.normal(size=(cin, tiles, 6, 6)).astype(np.float32)
    ref = np.zeros((cout, tiles, 4, 4))
    for ky in range(3):
        for kx in range(3):
            ref += np.einsum('oc,ctij->otij', g[:, :, ky, kx].astype(np.float64), d[:, :, ky:ky + 4, kx:kx + 4].astype(np.float64))
    return g, d, ref


def winograd(AT, G, BT, g, d):
    f32 = np.float32
    u = np.einsum('xa,ocab,yb->xyoc', G, g.astype(np.float64), G).astype(f32)
    v = np.einsum('xa,ctab,yb->xyct', BT.astype(f32), d, BT.astype(f32)).astype(f32)
    m = np.einsum('xyoc,xyct->xyot', u, v).astype(f32)
    return np.einsum('ix,xyot,jy->otij', AT.astype(f32), m, AT.astype(f32)).astype(np.float64)


def kernel_order(g, d):
    """The points 0, ±1, 2, −1/2, ∞ in the operation order of Sources/CSSCore/Kernels/Winograd4.swift
    (its factored Bᵀ and Aᵀ columns, Float32 after every operation; G in Float64, rounded once)."""
    f32 = np.float32

    def bt(d0, d1, d2, d3, d4, d5):
        u, w = d4 - d2, d3 - d1
        u2, w2 = f32(2) * u, f32(2) * w
        a, b = u2 - f32(3) * d3, w2 - f32(3) * d2
        return [(d0 - d2) + u - f32(1.5) * w, a + b, a - b, u2 + w, u - w2, (d5 - d3) - w - f32(1.5) * u]

    def at(m0, m1, m2, m3, m4, m5):
        s12, d12 = m1 + m2, m1 - m2
        return [(m0 + s12) + (m3 - f32(8) * m4), d12 + (f32(2) * m3 + f32(4) * m4), s12 + (f32(4) * m3 - f32(2) * m4),
                (d12 + m5) + (f32(8) * m3 + m4)]

    def gt(a, b, c):
        s, b2 = a + c, 2 * b
        return [a, -(s + b) / 6, (s - b) / 6, (a + b2 + 4 * c) / 30, (4 * a - b2 + c) / 30, c]

    def both(f, x):  # down the columns (axis 2), then along the rows (axis 3)
        y = np.stack(f(*[x[:, :, i] for i in range(x.shape[2])]), axis=2)
        return np.stack(f(*[y[:, :, :, j] for j in range(y.shape[3])]), axis=3)

    u = both(gt, g.astype(np.float64)).astype(f32)
    v = both(bt, d)
    m = np.einsum('ocxy,ctxy->otxy', u, v).astype(f32)
    return both(at, m).astype(np.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cin', type=int, default=256)
    ap.add_argument('--cout', type=int, default=16)
    ap.add_argument('--tiles', type=int, default=400)
    a = ap.parse_args()
    sets = {'0, ±1, ±2, ∞': [0, 1, -1, 2, -2], '0, ±1, ±1/2, ∞': [0, 1, -1, F(1, 2), F(-1, 2)],
            '0, ±1, 2, −1/2, ∞': [0, 1, -1, 2, F(-1, 2)], '0, ±1, 1/2, −2, ∞': [0, 1, -1, F(1, 2), -2]}
    print(f'F(4×4, 3×3), {a.cin} input channels: largest |error| / largest |output| (Float64 direct = reference)')
    for spikes in (False, True):
        g, d, ref = data(a.cin, a.cout, a.tiles, spikes)
        scale = np.abs(ref).max()
        print('inputs:', 'ternary spikes (80 % zero)' if spikes else 'standard normal')
        for name, p in sets.items():
            AT, G, BT = matrices(p)
            assert check_1d(AT, G, BT) < 1e-12, name
            print(f'  {name:20s} {np.abs(winograd(AT, G, BT, g, d) - ref).max() / scale:.2e}')
            if name == '0, ±1, 2, −1/2, ∞':
                print(f'  {"  in the kernel order":20s} {np.abs(kernel_order(g, d) - ref).max() / scale:.2e}')
        y32 = np.zeros_like(ref, dtype=np.float32)
        for ky in range(3):
            for kx in range(3):
                y32 += np.einsum('oc,ctij->otij', g[:, :, ky, kx], d[:, :, ky:ky + 4, kx:kx + 4]).astype(np.float32)
        A2 = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)
        G2 = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])
        B2 = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
        y2 = np.zeros_like(ref)
        for oy in (0, 2):
            for ox in (0, 2):
                y2[:, :, oy:oy + 2, ox:ox + 2] = winograd(A2, G2, B2, g, np.ascontiguousarray(d[:, :, oy:oy + 4, ox:ox + 4]))
        print(f'  {"F(2×2, 3×3)":20s} {np.abs(y2 - ref).max() / scale:.2e}')
        print(f'  {"direct Float32":20s} {np.abs(y32 - ref).max() / scale:.2e}')


if __name__ == '__main__':
    main()
