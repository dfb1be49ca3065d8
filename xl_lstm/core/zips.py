"""A zip package (.xlsx, .xlsm) measured from its directory before any part is inflated.

Every reader of workbooks goes through ``check_package``: the refresh's own reader and the
tables' reader (openpyxl), so a workbook of a few KB that would inflate to GBs (a zip bomb), a
package of a million parts, or one that names a part twice (a forged zip: two readers may see
two different parts) is refused in one line before the work. The sizes a zip's directory
states are the ones Python's zipfile enforces while inflating (it stops at the stated size and
checks the CRC), so a member that lies about its size fails when read, never grows past it.
"""

from __future__ import annotations

import zipfile
from collections import Counter

from .errors import LSTMError

__all__ = ["MAX_MEMBERS", "MAX_PART_BYTES", "MAX_RATIO", "MAX_TOTAL_BYTES", "check_package"]

MAX_MEMBERS = 10_000  # parts in one package: the template has 40, a large workbook a few hundred
MAX_PART_BYTES = 256 << 20  # one part inflated: a sheet of 2,500,000 cells is about 120 MiB of XML
MAX_TOTAL_BYTES = 1 << 30  # the whole package inflated
MAX_RATIO = 1000  # inflated / compressed for one part (above 1 KiB): XML deflates 10-200x, zip bombs far beyond


def check_package(zf: zipfile.ZipFile, where: str) -> None:
    """Refuse, in one line naming ``where``, a package over the limits above or with a part named twice."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise LSTMError(f"{where}: {len(infos):,} parts in the package, over the limit of {MAX_MEMBERS:,}")
    twice = [name for name, n in Counter(i.filename for i in infos).items() if n > 1]
    if twice:
        raise LSTMError(f"{where}: the package holds part {twice[0]} more than once (a damaged or forged zip): refused")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_PART_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1024):
            raise LSTMError(
                f"{where}: part {info.filename} would inflate to {info.file_size / 2**20:.0f} MiB "
                f"from {info.compress_size / 2**10:.0f} KiB: refused as a zip bomb"
            )
    if total > MAX_TOTAL_BYTES:
        raise LSTMError(f"{where}: its parts would inflate to {total / 2**20:.0f} MiB, over the 1 GiB limit")
