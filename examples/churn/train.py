"""Trains the churn model from the command line (the notebook does the same, step by step).

    nb2prod run -- python train.py --n-estimators 200 --max-depth 8 --seed 42
"""
import argparse
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split

try:
    import nb2prod  # present in runs tracked by nb2prod
except ImportError:
    nb2prod = None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-estimators", type=int, default=200)
    parser.add_argument("--max-depth", type=int, default=8)
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    df = pd.read_csv(os.path.join(here, "data", "customers.csv"))
    X = pd.get_dummies(df.drop(columns=["churned"]), columns=["contract", "payment_method"])
    y = df["churned"]

    np.random.seed(args.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=args.test_size, random_state=args.seed, stratify=y)
    model = RandomForestClassifier(n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=args.seed, n_jobs=1)
    model.fit(X_train, y_train)

    scores = model.predict_proba(X_test)[:, 1]
    metrics = {
        "accuracy": accuracy_score(y_test, scores > 0.5),
        "f1": f1_score(y_test, scores > 0.5),
        "roc_auc": roc_auc_score(y_test, scores),
    }
    print(metrics)
    if nb2prod:
        nb2prod.log_metrics(metrics)

    os.makedirs(os.path.join(here, "models"), exist_ok=True)
    joblib.dump(model, os.path.join(here, "models", "churn_model.joblib"))


if __name__ == "__main__":
    main()
