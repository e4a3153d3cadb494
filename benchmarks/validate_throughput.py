"""Validator throughput in MB/s of markdown (target >= 5 MB/s), on specs of several sizes."""

from __future__ import annotations

import time

from harness_ls.spec import validate
from harness_ls.testing.specs import long_spec


def measure(text: str, min_seconds: float = 1.0) -> float:
    validate(text)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds:
        validate(text)
        n += 1
    return len(text.encode()) * n / (time.perf_counter() - t0) / 1e6


def main() -> None:
    for label, text in (
        ("300-line spec (~10 KB)", long_spec(300)),
        ("3,000-line spec (~100 KB)", long_spec(3000)),
        ("1 MB spec", long_spec(30000)),
    ):
        print(f"validate {label}: {measure(text):.1f} MB/s  (target >= 5 MB/s)")


if __name__ == "__main__":
    main()
