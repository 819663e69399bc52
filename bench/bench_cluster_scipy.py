#!/usr/bin/python3
"""Linkage timings of napkit (bench_cluster) and SciPy on the same data, side by side.

Run from the repository root after `make bench` (or `make BUILD=... bench`):
    /usr/bin/python3 bench/bench_cluster_scipy.py [path/to/bench_cluster]
Needs Debian's python3-scipy (scripts/install-deps.sh fixtures). For each n it
writes random float64 data (64 features) to a temporary .npy, runs the C
benchmark on it, times scipy.spatial.distance.pdist and
scipy.cluster.hierarchy.linkage (best of 3 for n = 2000, 1 run for n = 5000) and
checks that both average linkages agree.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

METHODS = ["average", "ward", "single", "complete", "centroid"]


def c_times(exe, xpath, zpath):
    out = subprocess.run([exe, xpath, zpath], check=True, capture_output=True, text=True).stdout
    times = {}
    for line in out.splitlines():
        parts = line.split()
        key = parts[2] if parts[2] == "pdist" else parts[3]
        times[key] = float(parts[-2])
    return times


def best(f, reps):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = f()
        t.append(time.perf_counter() - t0)
    return min(t), r


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else "build/bench/bench_cluster"
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: build it with `make bench` first")
    print(f"scipy {scipy.__version__}, numpy {np.__version__}, {os.cpu_count()} cores")
    print(f"{'n':>5} {'step':<10} {'napkit s':>9} {'scipy s':>9} {'ratio':>6}")
    rng = np.random.default_rng(12345)
    with tempfile.TemporaryDirectory() as tmp:
        for n in [2000, 5000]:
            X = rng.random((n, 64)) - 0.5
            xpath, zpath = os.path.join(tmp, "X.npy"), os.path.join(tmp, "Z.npy")
            np.save(xpath, X)
            c = c_times(exe, xpath, zpath)
            reps = 3 if n <= 2000 else 1
            ts, y = best(lambda: pdist(X), reps)
            rows = [("pdist", c["pdist"], ts)]
            for m in METHODS:
                ts, Z = best(lambda: hierarchy.linkage(y, m), reps)
                rows.append((m, c[m], ts))
                if m == "average":
                    Zc = np.load(zpath)
                    same = np.array_equal(Zc[:, [0, 1, 3]], Z[:, [0, 1, 3]])
                    err = np.abs(Zc[:, 2] - Z[:, 2]).max()
                    print(f"      average linkage: merges identical: {same}, max height difference {err:.2e}")
            for name, tc, tsc in rows:
                print(f"{n:>5} {name:<10} {tc:>9.3f} {tsc:>9.3f} {tc / tsc:>6.2f}")


if __name__ == "__main__":
    main()
