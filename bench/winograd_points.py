import numpy as np, itertools, sys
from fractions import Fraction as F
def mats(points, m=4, r=3):
    n = m + r - 1
    pts = list(points)  # finite points; last is infinity
    assert len(pts) == n - 1
    V = np.zeros((n, n), dtype=object)
    for j, a in enumerate(pts):
        for k in range(n): V[j, k] = F(a) ** k
    V[n-1, n-1] = F(1)
    Vf = np.array(V, dtype=float)
    Vinv = np.linalg.inv(Vf)
    f = [np.prod([float(a - b) for b in pts if b != a]) for a in pts] + [1.0]
    s = np.array([1.0 / x for x in f])
    AT = Vf[:, :m].T.copy(); AT[:, n-1] = 0; AT[m-1, n-1] = 1
    G = (s[:, None] * Vf[:, :r]); G[n-1] = 0; G[n-1, r-1] = 1
    BT = (Vinv.T / s[:, None])
    return AT, G, BT
def corr1d_check(AT, G, BT):
    rng = np.random.default_rng(0)
    g = rng.normal(size=3); d = rng.normal(size=6)
    y = AT @ ((G @ g) * (BT @ d))
    ref = np.array([sum(g[k] * d[i + k] for k in range(3)) for i in range(4)])
    return np.abs(y - ref).max()
def trial(points, cin=256, cout=16, tiles=400, spikes=False, seed=1):
    AT, G, BT = mats(points)
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(cout, cin, 3, 3)) / np.sqrt(9 * cin)
    if spikes:
        d = rng.choice([-1.0, 0.0, 1.0], p=[0.1, 0.8, 0.1], size=(cin, tiles, 6, 6))
    else:
        d = rng.normal(size=(cin, tiles, 6, 6))
    g = g.astype(np.float32).astype(np.float64); d = d.astype(np.float32).astype(np.float64)
    ref = np.zeros((cout, tiles, 4, 4))
    for ky in range(3):
        for kx in range(3):
            ref += np.einsum('oc,ctij->otij', g[:, :, ky, kx], d[:, :, ky:ky+4, kx:kx+4])
    u = np.einsum('xa,ocab,yb->xyoc', G, g, G).astype(np.float32)
    f32 = np.float32
    BTf = BT.astype(f32); ATf = AT.astype(f32)
    v = np.einsum('xa,ctab,yb->xyct', BTf, d.astype(f32), BTf).astype(f32)
    mm = np.einsum('xyoc,xyct->xyot', u, v).astype(f32)
    y = np.einsum('ix,xyot,jy->otij', ATf, mm, ATf).astype(np.float64)
    scale = np.abs(ref).max()
    return np.abs(y - ref).max() / scale, np.sqrt(np.mean((y - ref) ** 2)) / np.sqrt(np.mean(ref ** 2))
sets = {'0,±1,±2': [0, 1, -1, 2, -2], '0,±1,±1/2': [0, 1, -1, F(1, 2), F(-1, 2)],
        '0,±1,2,-1/2': [0, 1, -1, 2, F(-1, 2)], '0,±1,1/2,-2': [0, 1, -1, F(1, 2), -2]}
for name, p in sets.items():
    AT, G, BT = mats(p)
    print(name, 'check', '%.1e' % corr1d_check(AT, G, BT))
    for spikes in (False, True):
        mx, rms = trial(p, spikes=spikes)
        print('   spikes' if spikes else '   normal', 'max/|ref|max %.2e  rms rel %.2e' % (mx, rms))
AT, G, BT = mats(sets['0,±1,±2'])
np.set_printoptions(precision=4, suppress=True, linewidth=150)
print(AT); print(G); print(BT)
# F(2x2) for comparison
def trial2(cin=256, cout=16, tiles=400, spikes=False, seed=1):
    pass
print('--- 0,1,-1,2,-1/2')
AT, G, BT = mats(sets['0,±1,2,-1/2']); print(AT); print(G); print(BT)
# baseline: direct float32 sum and F(2x2)
rng = np.random.default_rng(1); cin, cout, tiles = 256, 16, 400
g = (rng.normal(size=(cout, cin, 3, 3)) / np.sqrt(9 * cin)).astype(np.float32)
d = rng.normal(size=(cin, tiles, 6, 6)).astype(np.float32)
ref = np.zeros((cout, tiles, 4, 4)); y32 = np.zeros((cout, tiles, 4, 4), dtype=np.float32)
for ky in range(3):
    for kx in range(3):
        ref += np.einsum('oc,ctij->otij', g[:, :, ky, kx].astype(np.float64), d[:, :, ky:ky+4, kx:kx+4].astype(np.float64))
        y32 += np.einsum('oc,ctij->otij', g[:, :, ky, kx], d[:, :, ky:ky+4, kx:kx+4]).astype(np.float32)
print('direct f32 max/|ref|max %.2e' % (np.abs(y32 - ref).max() / np.abs(ref).max()))
A2, G2, B2 = (np.array([[1,1,1,0],[0,1,-1,-1]],dtype=np.float32), np.array([[1,0,0],[.5,.5,.5],[.5,-.5,.5],[0,0,1]]), np.array([[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]],dtype=np.float32))
u = np.einsum('xa,ocab,yb->xyoc', G2, g.astype(np.float64), G2).astype(np.float32)
out = np.zeros((cout, tiles, 4, 4))
for oy in (0, 2):
    for ox in (0, 2):
        dd = d[:, :, oy:oy+4, ox:ox+4]
        v = np.einsum('xa,ctab,yb->xyct', B2, dd, B2).astype(np.float32)
        mm = np.einsum('xyoc,xyct->xyot', u, v).astype(np.float32)
        out[:, :, oy:oy+2, ox:ox+2] = np.einsum('ix,xyot,jy->otij', A2, mm, A2)
print('F(2x2) f32 max/|ref|max %.2e' % (np.abs(out - ref).max() / np.abs(ref).max()))
