"""The monitor bench's baseline: pandas reading the same audit log (JSON Lines, in chunks so that
it fits in memory) and computing the same per-day figures as `nb2prod monitor`: volume, error,
fallback and kill-switch counts, latency p50/p95/p99, PSI of each input against the training
profile's bins, and accuracy of the predictions whose label arrived (joined by request id).

    python3 bench/monitor_baseline.py SERVICE_DIR   -> prints {"seconds": ..., "lines": ..., "windows": ...}
"""
import glob
import json
import os
import sys
import time

import numpy as np
import pandas as pd


def psi(reference, current):
    e = np.asarray(reference, float) / max(sum(reference), 1)
    a = np.asarray(current, float) / max(sum(current), 1)
    e[e == 0] = 1e-4
    a[a == 0] = 1e-4
    return float(np.sum((a - e) * np.log(a / e)))


def main(root):
    started = time.perf_counter()
    profile = json.load(open(os.path.join(root, "contracts", "profile.json")))
    config = json.load(open(os.path.join(root, "service", "config.json")))
    inputs = config["input_columns"]
    columns = {c["name"]: c for c in profile["columns"]}
    labels = pd.concat([pd.read_json(path, lines=True) for path in sorted(glob.glob(os.path.join(root, "var", "feedback", "labels-*.jsonl")))])
    labels = labels.drop_duplicates("request_id", keep="last").set_index("request_id")["label"]
    days = {}
    lines = 0
    for path in sorted(glob.glob(os.path.join(root, "var", "audit", "predictions-*.jsonl"))):
        for chunk in pd.read_json(path, lines=True, chunksize=200_000, dtype=False):
            lines += len(chunk)
            chunk["day"] = chunk["time"].str.slice(0, 10)
            frame = pd.json_normalize(chunk["input"].tolist())
            frame["prediction"] = [o["prediction"] for o in chunk["output"]]
            frame["day"] = chunk["day"].values
            frame["latency"] = chunk["latency_ms"].values
            frame["error"] = (chunk["type"] == "error").values
            frame["fallback"] = chunk["fallback"].values
            frame["kill_switch"] = chunk["kill_switch"].values
            frame["label"] = labels.reindex(chunk["request_id"].values).values
            for day, part in frame.groupby("day"):
                acc = days.setdefault(day, {"n": 0, "errors": 0, "fallback": 0, "kill": 0, "latency": [], "correct": 0, "labelled": 0, "counts": {}})
                acc["n"] += len(part)
                acc["errors"] += int(part["error"].sum())
                acc["fallback"] += int(part["fallback"].sum())
                acc["kill"] += int(part["kill_switch"].sum())
                acc["latency"].append(part["latency"].to_numpy())
                labelled = part[part["label"].notna()]
                acc["labelled"] += len(labelled)
                acc["correct"] += int((labelled["label"] == labelled["prediction"]).sum())
                for name in inputs:
                    column = columns[name]
                    if column["type"] == "numeric":
                        edges = column["bins"]["edges"]
                        cuts = edges[1:-1] if len(edges) > 2 else [edges[0], np.nextafter(edges[-1], np.inf)]
                        counts = np.bincount(np.searchsorted(cuts, part[name].to_numpy(float), side="right"), minlength=len(cuts) + 1)
                    else:
                        counts = part[name].value_counts()
                    previous = acc["counts"].get(name)
                    acc["counts"][name] = counts if previous is None else previous + counts if column["type"] == "numeric" else previous.add(counts, fill_value=0)
    report = {}
    for day, acc in sorted(days.items()):
        latency = np.concatenate(acc["latency"])
        result = {"volume": acc["n"], "p50": float(np.percentile(latency, 50)), "p95": float(np.percentile(latency, 95)),
                  "p99": float(np.percentile(latency, 99)), "accuracy": acc["correct"] / acc["labelled"] if acc["labelled"] else None}
        for name in inputs:
            column = columns[name]
            if column["type"] == "numeric":
                reference = column["bins"]["counts"] if len(column["bins"]["edges"]) > 2 else [0, sum(column["bins"]["counts"]), 0]
                result[name] = psi(reference, acc["counts"][name])
            else:
                top = {t["value"]: t["count"] for t in column["top"]}
                current = acc["counts"][name]
                keys = list(top) + [k for k in current.index if k not in top]
                result[name] = psi([top.get(k, 0) for k in keys], [current.get(k, 0) for k in keys])
        report[day] = result
    print(json.dumps({"seconds": time.perf_counter() - started, "lines": lines, "windows": len(report), "report": report}))


if __name__ == "__main__":
    main(sys.argv[1])
