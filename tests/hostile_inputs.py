"""Hostile inputs built the same way by the tests (``test_hostile.py``) and the benchmark
of their refusal (``benchmarks/hostile.py``)."""
from __future__ import annotations

import zipfile
from pathlib import Path


def package_members(package: Path) -> list:
    """``(name, bytes)`` of the analysis-data CSV files of the package folder ``package``."""
    return [(str(p.relative_to(package)), p.read_bytes()) for p in sorted(package.rglob("*.csv"))
            if "analysis-data" in str(p)]


def zip_bomb(path: Path, package: Path, mib: int = 512) -> Path:
    """A package zip whose extra member ``study-flow.csv`` is ``mib`` MiB of one byte
    (512 MiB deflate to about 0.5 MB: a ratio of about 1000)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in package_members(package):
            z.writestr(name, data)
        with z.open("study-flow.csv", "w", force_zip64=True) as f:
            block = b"a" * (1 << 20)
            for _ in range(mib):
                f.write(block)
    return path


def billion_laughs() -> str:
    """A review file whose nine levels of nine YAML aliases stand for 9**9 (387 million) strings."""
    text = 'package: X\ntitle: T\na0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 10):
        text += f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    return text + "sections: *a9\n"
