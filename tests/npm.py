"""Test tools that come from the npm registry (axe-core, vnu-jar), installed on first use into a
git-ignored node_modules beside their package-lock.json. The site never serves them."""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path


def npm_install(folder: Path, wanted: Path, unavailable: Callable[[str], None]) -> None:
    """`npm ci` in `folder` unless `wanted` is there already; `unavailable(reason)` skips or fails
    the test (under CI) when that cannot be done."""
    if wanted.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        unavailable(f"{wanted.name} is not installed and there is no npm to install it")
    result = subprocess.run(
        [npm, "ci", "--prefix", str(folder), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0 or not wanted.exists():
        unavailable(f"npm ci in {folder.name} failed: {result.stderr.strip()[-2000:]}")
