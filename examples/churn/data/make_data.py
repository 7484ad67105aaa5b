"""Generates data/customers.csv: a synthetic customer-churn table, the same bytes every time.

    python data/make_data.py
"""
import os

import numpy as np
import pandas as pd

ROWS = 3000


def make(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], size=rows, p=[0.55, 0.25, 0.20])
    payment = rng.choice(["card", "bank-transfer", "electronic-check", "mailed-check"], size=rows)
    tenure = rng.integers(1, 73, size=rows)
    monthly = np.round(rng.normal(65, 20, size=rows).clip(18, 120), 2)
    calls = rng.poisson(1.5, size=rows)
    # Churn is likelier for short tenure, month-to-month contracts, high charges and many calls.
    logit = (
        -1.2
        - 0.04 * tenure
        + 1.3 * (contract == "month-to-month")
        - 0.8 * (contract == "two-year")
        + 0.02 * (monthly - 65)
        + 0.35 * calls
        + 0.4 * (payment == "electronic-check")
    )
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "contract": contract,
            "payment_method": payment,
            "support_calls": calls,
            "churned": churned,
        }
    )


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "customers.csv")
    make().to_csv(out, index=False)
    print(f"wrote {out}")
