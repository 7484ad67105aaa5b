"""The drift benchmark's baseline: the same per-column statistics as `nb2prod drift`, done the
usual way with pandas + numpy/scipy, reading both CSV files. Prints the seconds it took (imports
excluded, reading included) as JSON.

Usage: /usr/bin/python3 bench/drift_baseline.py REFERENCE.csv CURRENT.csv
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

EPS = 1e-4


def psi(ref_frac, cur_frac):
    ref_frac = np.clip(ref_frac, EPS, None)
    cur_frac = np.clip(cur_frac, EPS, None)
    return float(np.sum((cur_frac - ref_frac) * np.log(cur_frac / ref_frac)))


def numeric(ref, cur):
    edges = np.unique(np.quantile(ref, np.linspace(0.1, 0.9, 9)))
    ref_counts = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    cur_counts = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    ks = stats.ks_2samp(ref, cur, method="asymp")
    wasserstein = stats.wasserstein_distance(ref, cur) / np.std(ref, ddof=1)
    return {"psi": psi(ref_counts / len(ref), cur_counts / len(cur)), "ks": ks.statistic, "p": ks.pvalue, "w": wasserstein}


def categorical(ref, cur):
    ref_counts = ref.value_counts()
    cur_counts = cur.value_counts()
    categories = ref_counts.index.union(cur_counts.index)
    r = ref_counts.reindex(categories, fill_value=0).to_numpy()
    c = cur_counts.reindex(categories, fill_value=0).to_numpy()
    chi2, p, _, _ = stats.chi2_contingency(np.vstack([r, c]), correction=False)
    return {"psi": psi(r / r.sum(), c / c.sum()), "chi2": chi2, "p": p, "js": float(jensenshannon(r / r.sum(), c / c.sum(), base=2))}


def main():
    started = time.perf_counter()
    reference = pd.read_csv(sys.argv[1])
    current = pd.read_csv(sys.argv[2])
    read = time.perf_counter() - started
    results = {}
    for column in reference.columns:
        ref = reference[column].dropna()
        cur = current[column].dropna()
        few_integers = pd.api.types.is_integer_dtype(ref) and ref.nunique() <= 20
        if pd.api.types.is_numeric_dtype(ref) and not few_integers:
            results[column] = numeric(ref.to_numpy(), cur.to_numpy())
        else:
            results[column] = categorical(ref.astype(str), cur.astype(str))
    total = time.perf_counter() - started
    print(json.dumps({"seconds": total, "readSeconds": read, "columns": len(results)}))


if __name__ == "__main__":
    main()
