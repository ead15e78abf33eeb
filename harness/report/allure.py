"""Allure HTML from ``allure-results/``, when the Allure 3 CLI is installed.

Allure 3 is the npm package ``allure`` (Node-based, no Java). We look for ``allure`` on
PATH, then for a locally installed one through ``npx --no-install allure``; we never
download it. Without it, :func:`render_allure` returns a message saying how to install it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "the Allure CLI is not installed; install Allure 3 with `npm install -g allure` "
    "(Node.js, no Java), then run `harness report --allure` again"
)


@dataclass(frozen=True)
class AllureResult:
    ok: bool
    message: str
    out_dir: Path | None = None


def find_allure(timeout: float = 30.0) -> list[str] | None:
    """The command prefix that runs the Allure CLI, or ``None``."""
    exe = shutil.which("allure")
    if exe:
        return [exe]
    npx = shutil.which("npx")
    if npx:
        cmd = [npx, "--no-install", "allure", "--version"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        if proc.returncode == 0:
            return [npx, "--no-install", "allure"]
    return None


def render_allure(
    results_dir: str | Path, out_dir: str | Path, *, timeout: float = 300.0
) -> AllureResult:
    """Run ``allure generate RESULTS --output OUT``; never raises for a missing tool."""
    results = Path(results_dir)
    out = Path(out_dir)
    if not results.is_dir() or not any(results.iterdir()):
        return AllureResult(
            False,
            f"no Allure results in {results}; a run writes them there when allure-pytest "
            "is enabled (`--alluredir`)",
        )
    prefix = find_allure()
    if prefix is None:
        return AllureResult(False, INSTALL_HINT)
    cmd = [*prefix, "generate", str(results), "--output", str(out)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return AllureResult(False, f"`allure generate` did not finish within {timeout:.0f} s")
    except OSError as exc:
        return AllureResult(False, f"could not run the Allure CLI: {exc}")
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return AllureResult(
            False, f"`allure generate` exited {proc.returncode}: " + " | ".join(tail)
        )
    return AllureResult(True, f"Allure report: {out / 'index.html'}", out)
