"""What a model set is made of: file names, limits, set names, and the published ensemble.

The members, checksums and provenance of the published DenseSM 9 km ensemble (Zhu et al.
2024), the names of a set's manifest and checksum files, the size limits on what is read,
and the rules for set and member names and the folder of an installed set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ...errors import ModelStoreError
from ...paths import models_dir

DEFAULT_NAME = "densesm_9km"
"""Name under which the published 9 km ensemble is installed by default."""
DEPTHS: tuple[int, ...] = (1, 2, 3, 4, 5)
"""Depths (number of dense blocks) of the published members."""
WIDTHS: tuple[int, ...] = (8, 16, 32, 64, 128)
"""Widths of the published members."""
PUBLISHED_MEMBERS: tuple[str, ...] = tuple(f"coarse_{d}_{w}" for d in DEPTHS for w in WIDTHS)
"""Member names of the published ensemble, in the store's fixed order (depth, then width)."""
KINDS: tuple[str, ...] = ("pretrained", "adapted")
"""Allowed values of :attr:`ModelSet.kind`."""
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MANIFEST_FORMAT = 1

N_SNAPSHOT_FEATURES = 30
"""Inputs of the first dense block: 18 snapshot numbers + 12 temporal features."""
BOTTLENECK = 32
"""Width of the bottleneck layer (the feature representation)."""

INSTALL_HINT = (
    "Download DenseSM_9km.zip on a machine with internet and run "
    "`soilmoisture models install --from /path/to/DenseSM_9km.zip`"
)

# SHA-256 of the 25 published files (data copied from the SHA256SUMS that accompanies the
# authors' DenseSM_9km models); used when an archive or folder comes without its own SHA256SUMS.
PUBLISHED_SHA256SUMS = """\
ec3314229d2b9f1c2eb1bbbbf2a8493ee911d7374c3d72c536d4bfe019e94382  coarse_1_128.pt
dd949cafd1c4d589cc1f2a693691946f2a0e601301e049442bfc9bc985538579  coarse_1_16.pt
28b7582ec180ea7ba77d7eb6af07385ce48fa8d3bf22e1b6373b03965f1abe1c  coarse_1_32.pt
4ea483abb5946dc651eb20186b10c461b64294e36bd45ced835df73b954f8ba9  coarse_1_64.pt
d3b9aec885bfdc6b810d9cc135e541ba94127f30f88a75505b489dec2f4b3c91  coarse_1_8.pt
1b91f4fa3a9a01d920093e39159b2725838d68d06968256531ffb1cfefcd58ac  coarse_2_128.pt
551dcba0fadaa63298e10f5574ffc8dd38d5eb515588564085b495847db251dd  coarse_2_16.pt
cc469c79c2e72cea7aa287bdb2628bb23116bcb71295c07bbabb02e92df56862  coarse_2_32.pt
63735b8891683f5913bb794af2fd3956a2581ca5fb3bb0f389839e88bf7d2535  coarse_2_64.pt
e53eebfbcf15fc7035468b474e0df57fd4fd198cde6a495b24225297db58b24e  coarse_2_8.pt
c1008baf07134efa6d45263ff9358bf53bc134dfb68dc419a8ea417fa195a611  coarse_3_128.pt
69bc2090f4e00ab861e2d4ef7a630142eb5ddd58e071f5eb3d7ddac0ee86ab83  coarse_3_16.pt
43acfda3ba8632f517898f5913aa341bda97be68ac88405ff7ff14fd95d58ad2  coarse_3_32.pt
d6763d875300c0a990c4a79950a6c44bea4e7578ad521af6dbee67096215b9e0  coarse_3_64.pt
79c043b64f2feea489b225b320c01c30fc28ca6d8b768e5298216f52532b987d  coarse_3_8.pt
93fbffb8aa0129b657fe12efdeb94dab8f28c86d57468825bf4ab8b3ce530589  coarse_4_128.pt
de2847702631afd652ea8e91c6350b74804ce365e03fd117329e790a95483077  coarse_4_16.pt
898b94ff203921fa940e773de1be84827baf39b3e35d0006a00a307f5c021420  coarse_4_32.pt
5651ca6aae0c0aeb10a3e8640d75aa330bf1387dcdead8c27eceb9bda67e9f3f  coarse_4_64.pt
79ef05a5df3c3ce58c78d94481556b47c656870f131ece6e1670a48cdd920e87  coarse_4_8.pt
f40bf307f8a3249fd8b68557fe9808d0ff6b6ebfbb7c3e8da0176c804fbbe33a  coarse_5_128.pt
cb09809d5433aa62582d198811112f73e2cd4eb2041bf033243c0321b10d0dde  coarse_5_16.pt
95a92a58cfbaf85ccb5d962e99ca4359218ed1f8be0eab04fe951d7ada2a4266  coarse_5_32.pt
714f4e79d048268c1d7e5620b3eb918308161b637af68dd05490445a953417b7  coarse_5_64.pt
4c795cd14cca26d13d5ead7caa4817278ad9c01aa45f5a66a7022fd41cb40395  coarse_5_8.pt
"""

PUBLISHED_PROVENANCE: dict[str, Any] = {
    "model": "DenseSM-E, 25 members DenseSM-d-w (d = 1..5, w = 8..128)",
    "reference": "Zhu et al. 2024, Remote Sensing of Environment 301:113944",
    "trained_at": "9 km, against SMAP L3 enhanced passive soil moisture",
    # The order, ranges and precipitation scale the weights were trained on, read off their own
    # input statistics (core.features.contract.DENSESM_9KM; docs/input-contract.md has the
    # evidence).
    "input_layout": "densesm_9km",
}

ORIGIN_LABELS: dict[str, str] = {
    "published": "published (checksums of the published DenseSM 9 km files)",
    "own": "user's own (not the published weights)",
    "modified": "MODIFIED (differs from the published DenseSM 9 km files)",
}
"""What :attr:`ModelSet.origin` says, in words."""

MAX_MEMBER_BYTES = 256 * 1024**2
"""Largest member file accepted from an archive (the published ones are below 2 MB)."""
MAX_ARCHIVE_BYTES = 4 * 1024**3
"""Largest archive accepted from a download and largest total of extracted members."""
MAX_ARCHIVE_ENTRIES = 10_000
_CHUNK = 1024 * 1024
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MEMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_PUBLISHED_FILE_RE = re.compile(r"^coarse_([1-9][0-9]*)_([1-9][0-9]*)\.pt$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ModelStoreError(
            f"invalid model-set name {name!r}: use 1-64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def _published_member(file_name: str) -> tuple[str, int, int] | None:
    m = _PUBLISHED_FILE_RE.match(file_name)
    if not m:
        return None
    return file_name[:-3], int(m.group(1)), int(m.group(2))


def _find_published_files(folder: Path) -> dict[str, Path]:
    return {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.is_file() and _published_member(p.name) is not None
    }


def target_path(name: str) -> Path:
    """Folder of the installed set ``name`` (whether or not it exists)."""
    return models_dir() / _check_name(name)
