"""The numpy approach of numpy_dnp_e3h.py (batched eigh of the symmetrized generator, modes of
rho - rho_eq, all times at once) on matrices dumped by relaxmap (bench/e4h.ts): N symmetric
r x r generators, their probe vectors (weighted observables and weighted initial deviation)
and the time grid, float64 little-endian. Times only the linear algebra and the trajectories.

    python3 numpy_dumped_eigh.py DUMP.bin N R NOBS NTIMES
"""
import os
for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_v, '1')
import json
import sys
import time

import numpy as np

path, N, r, nobs, nt = sys.argv[1], *map(int, sys.argv[2:6])
raw = np.fromfile(path, dtype='<f8')
G = raw[:N * r * r].reshape(N, r, r)
P = raw[N * r * r:N * r * r + N * (nobs + 1) * r].reshape(N, nobs + 1, r)
t = raw[N * r * r + N * (nobs + 1) * r:][:nt]
best = 1e9
for _ in range(3):
    t0 = time.perf_counter()
    lam, U = np.linalg.eigh(G)
    proj = np.einsum('nqi,nik->nqk', P, U)
    amp = proj[:, :nobs, :] * proj[:, nobs:, :]
    traj = np.einsum('nok,nkt->not', amp, np.exp(lam[:, :, None] * t))
    best = min(best, time.perf_counter() - t0)
print(json.dumps(dict(points=N, r=r, seconds=round(best, 4), points_per_s=round(N / best, 1), traj_mean=float(traj[:, -1, -1].mean()))))
