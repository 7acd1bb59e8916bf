"""The user's model store: installed DenseSM ensembles, verified, one folder per model set.

A *model set* is a folder under :func:`core.paths.models_dir` holding one plain PyTorch
``state_dict`` file per ensemble member (``coarse_{d}_{w}.pt``), a ``SHA256SUMS`` file and a
``manifest.json``::

    {"format": 1, "name": "densesm_9km", "kind": "pretrained",
     "members": [{"name": "coarse_1_8", "depth": 1, "width": 8, "file": "coarse_1_8.pt",
                  "sha256": "..."}, ...],
     "source": "/path/to/DenseSM_9km.zip", "installed_at": "2025-01-01T00:00:00+00:00",
     "provenance": {...}}

The published 9 km ensemble (25 members, Zhu et al. 2024) is installed with :func:`install` from
a folder, from the authors' ``DenseSM_9km.zip`` or from a URL to that archive. Every file is
checked against its SHA-256 (the ``SHA256SUMS`` shipped with the set, or the checksums of the
published files embedded here), loaded with ``weights_only=True`` and checked for the keys and
shapes of DenseSM-d-w. Adapted ensembles are written with :func:`save_model_set` in the same
layout (``kind = "adapted"``).

Installation and saving are atomic: the set is assembled in a hidden temporary folder beside its
destination and renamed into place, so a failure or a cancel leaves nothing behind.

torch is imported inside the functions that need it: the QGIS plugin imports this module at
start-up, where torch may be missing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..errors import ModelStoreError
from ..paths import models_dir
from ..progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

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


# -- data classes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberInfo:
    """One ensemble member of a model set.

    Attributes:
        name: member name, e.g. ``"coarse_2_16"``.
        depth: number of dense blocks ``d``.
        width: width ``w`` of the dense blocks.
        path: the member's ``.pt`` file.
        sha256: expected SHA-256 of that file (hex).

    """

    name: str
    depth: int
    width: int
    path: Path
    sha256: str


@dataclass
class ModelSet:
    """A verified ensemble in the store (or in any folder of the same layout).

    Attributes:
        name: the set's name (its folder name once installed).
        path: its folder.
        kind: ``"pretrained"`` or ``"adapted"``.
        members: the members, in the fixed order depth 1..5, then width 8..128.
        source: where it came from (a path, a URL, or what produced an adapted set).
        checksum_ok: True when every member file matched its SHA-256 when the set was opened.
        installed_at: ISO-8601 UTC time of installation or saving.
        provenance: free-form details (for adapted sets: method, alpha, stations, ...).
        problem: why ``checksum_ok`` is False (or why the set cannot be used), else None.

    """

    name: str
    path: Path
    kind: str
    members: list[MemberInfo]
    source: str
    checksum_ok: bool
    installed_at: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @property
    def member_names(self) -> list[str]:
        """Names of the members, in the set's fixed order."""
        return [m.name for m in self.members]

    @property
    def origin(self) -> str:
        """Where the weights come from, judged against the published checksums in this code.

        ``"published"``: the 25 members are byte for byte the published DenseSM 9 km files (and
        matched their checksums when opened). ``"modified"``: the set presents itself as the
        published ensemble (installed as such, or a folder of its files) but at least one
        member differs from the published file, even if the set's own checksum list was
        changed to match. ``"own"``: a set made by the user (adapted or pretrained with this
        tool), which the published checksums cannot vouch for.
        """
        published = len(self.members) == len(PUBLISHED_MEMBERS) and all(
            PUBLISHED_SHA256.get(m.path.name) == m.sha256 for m in self.members
        )
        if published:
            return "published" if self.checksum_ok else "modified"
        claims = self.kind == "pretrained" and (
            self.provenance.get("reference") == PUBLISHED_PROVENANCE["reference"]
            or "matches_published_checksums" in self.provenance
        )
        return "modified" if claims else "own"

    @property
    def origin_label(self) -> str:
        """The origin in words, for listings and run logs."""
        return ORIGIN_LABELS[self.origin]

    def state_dicts(self, progress: Progress | None = None) -> dict[str, dict[str, torch.Tensor]]:
        """Load every member's weights on the CPU, in the set's fixed member order.

        Each file is read once, its SHA-256 checked against the manifest, and the same bytes are
        loaded with ``torch.load(weights_only=True)``, so what is loaded is what was verified.

        Args:
            progress: optional progress reporter (one step per member, cancellable).

        Returns:
            ``{member name: state_dict}``, ordered by depth, then width.

        Raises:
            ModelStoreError: a member file is missing, corrupt or not a DenseSM state dict.

        """
        progress = progress or NULL_PROGRESS
        out: dict[str, dict[str, torch.Tensor]] = {}
        for i, member in enumerate(self.members):
            progress.check()
            progress.message(f"loading {member.name}")
            data = _read_member_bytes(member.path, self.name)
            digest = hashlib.sha256(data).hexdigest()
            if digest != member.sha256:
                raise ModelStoreError(
                    f"model set {self.name!r}: {member.path.name} is corrupt (SHA-256 {digest} "
                    f"differs from the recorded {member.sha256}). {_reinstall_hint(self)}"
                )
            sd = _load_state_dict_bytes(data, member.path.name)
            _check_state_dict(sd, member.depth, member.width, member.path.name)
            out[member.name] = sd
            progress.fraction((i + 1) / len(self.members))
        return out


# -- architecture checks ----------------------------------------------------------------------


def expected_shapes(depth: int, width: int) -> dict[str, tuple[int, ...]]:
    """Keys and tensor shapes of a DenseSM-``depth``-``width`` state dict (see method.md, 1).

    Args:
        depth: number of dense blocks (>= 1).
        width: width of the dense blocks (>= 1).

    Returns:
        ``{state-dict key: shape}`` in the order of the published files.

    """
    shapes: dict[str, tuple[int, ...]] = {}

    def bn(prefix: str, n: int) -> None:
        for suffix in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{prefix}.{suffix}"] = (n,)
        shapes[f"{prefix}.num_batches_tracked"] = ()

    for k, (cin, cout) in enumerate(((3, 32), (32, 16), (16, 4)), start=1):
        shapes[f"conv_block.conv{k}.weight"] = (cout, cin, 5)
        shapes[f"conv_block.conv{k}.bias"] = (cout,)
        bn(f"conv_block.bn{k}", cout)
    bn("norm", N_SNAPSHOT_FEATURES)
    for i in range(depth):
        prefix = f"dense_layers.{i}"
        n_in = N_SNAPSHOT_FEATURES + i * width
        for k in (1, 2, 3):
            shapes[f"{prefix}.linear{k}.weight"] = (width, n_in if k == 1 else width)
            shapes[f"{prefix}.linear{k}.bias"] = (width,)
        for k in (1, 2, 3):
            bn(f"{prefix}.bn{k}", width)
    shapes["fc_layers.0.linear1.weight"] = (BOTTLENECK, N_SNAPSHOT_FEATURES + depth * width)
    shapes["fc_layers.0.linear1.bias"] = (BOTTLENECK,)
    bn("fc_layers.0.bn1", BOTTLENECK)
    shapes["out.weight"] = (1, BOTTLENECK)
    shapes["out.bias"] = (1,)
    return shapes


def infer_architecture(state_dict: Mapping[str, Any], label: str = "state dict") -> tuple[int, int]:
    """Read depth and width off a DenseSM state dict.

    Args:
        state_dict: the member's weights.
        label: what to call it in error messages.

    Returns:
        ``(depth, width)``.

    Raises:
        ModelStoreError: the dict has no dense blocks or is not a DenseSM state dict.

    """
    blocks = set()
    for key in state_dict:
        m = re.match(r"^dense_layers\.(\d+)\.", key)
        if m:
            blocks.add(int(m.group(1)))
    first = state_dict.get("dense_layers.0.linear1.weight")
    if not blocks or first is None or len(tuple(first.shape)) != 2:
        raise ModelStoreError(
            f"{label} is not a DenseSM state dict (no dense_layers.0.linear1.weight found)"
        )
    return max(blocks) + 1, int(first.shape[0])


def _check_state_dict(sd: Any, depth: int, width: int, label: str) -> None:
    """Check keys, shapes and finiteness of one member against DenseSM-``depth``-``width``."""
    import torch

    if not isinstance(sd, Mapping):
        raise ModelStoreError(f"{label} does not hold a state dict (found {type(sd).__name__})")
    expected = expected_shapes(depth, width)
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {_few(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_few(unexpected)}")
        raise ModelStoreError(
            f"{label} is not a DenseSM-{depth}-{width} state dict: {'; '.join(parts)}"
        )
    for key, shape in expected.items():
        tensor = sd[key]
        if not isinstance(tensor, torch.Tensor):
            raise ModelStoreError(f"{label}: {key} is not a tensor")
        if tuple(tensor.shape) != shape:
            raise ModelStoreError(
                f"{label} is not a DenseSM-{depth}-{width} state dict: {key} has shape "
                f"{tuple(tensor.shape)}, expected {shape}"
            )
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelStoreError(f"{label}: {key} holds NaN or infinite values")


def _few(items: list[str], n: int = 5) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def _load_state_dict_bytes(data: bytes, label: str) -> dict[str, torch.Tensor]:
    import torch

    try:
        sd = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types on bad files
        raise ModelStoreError(
            f"{label} cannot be loaded as a PyTorch state dict (weights only): {exc}"
        ) from exc
    if not isinstance(sd, Mapping):
        raise ModelStoreError(f"{label} does not hold a state dict (found {type(sd).__name__})")
    return dict(sd)


def _read_member_bytes(path: Path, set_name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelStoreError(
            f"model set {set_name!r} is incomplete: {path.name} is missing from {path.parent}. "
            f"Remove and reinstall it."
        ) from exc
    except OSError as exc:
        raise ModelStoreError(f"cannot read {path}: {exc}") from exc


# -- checksums ----------------------------------------------------------------------------------


def parse_sha256sums(text: str, label: str = SUMS) -> dict[str, str]:
    """Parse ``sha256sum`` output (``HASH  NAME`` or ``HASH *NAME`` per line).

    Args:
        text: the file's contents.
        label: what to call the file in error messages.

    Returns:
        ``{file name: lower-case hex digest}`` (file names reduced to their base name).

    Raises:
        ModelStoreError: a line is not a checksum line.

    """
    sums: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not _SHA_RE.match(parts[0].lower()):
            raise ModelStoreError(f"{label}, line {lineno} is not a 'SHA256  FILE' line: {raw!r}")
        name = parts[1].strip().lstrip("*")
        sums[PurePosixPath(name.replace("\\", "/")).name] = parts[0].lower()
    return sums


PUBLISHED_SHA256: dict[str, str] = parse_sha256sums(PUBLISHED_SHA256SUMS)
"""``{file name: SHA-256}`` of the 25 published files."""


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _sums_text(members: Iterable[MemberInfo]) -> str:
    return "".join(f"{m.sha256}  {m.path.name}\n" for m in members)


# -- manifest -------------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _sort_members(members: list[MemberInfo]) -> list[MemberInfo]:
    return sorted(members, key=lambda m: (m.depth, m.width, m.name))


def _write_manifest(folder: Path, model_set: ModelSet) -> None:
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": model_set.name,
        "kind": model_set.kind,
        "members": [
            {
                "name": m.name,
                "depth": m.depth,
                "width": m.width,
                "file": m.path.name,
                "sha256": m.sha256,
            }
            for m in model_set.members
        ],
        "source": model_set.source,
        "installed_at": model_set.installed_at,
        "provenance": model_set.provenance,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (folder / SUMS).write_text(_sums_text(model_set.members), encoding="utf-8")


def _read_manifest(folder: Path) -> ModelSet:
    """Read ``manifest.json`` of a set folder (no checksum verification)."""
    path = folder / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelStoreError(f"{folder} is not a model set: it has no {MANIFEST}") from exc
    except (OSError, ValueError) as exc:
        raise ModelStoreError(f"{path} cannot be read: {exc}") from exc
    try:
        kind = str(raw["kind"])
        members = []
        for entry in raw["members"]:
            file = str(entry["file"])
            if PurePosixPath(file).name != file or file in ("", ".", ".."):
                raise ValueError(f"member file {file!r} is not a plain file name")
            sha = str(entry["sha256"]).lower()
            if not _SHA_RE.match(sha):
                raise ValueError(f"member {entry['name']!r} has no valid sha256")
            members.append(
                MemberInfo(
                    name=str(entry["name"]),
                    depth=int(entry["depth"]),
                    width=int(entry["width"]),
                    path=folder / file,
                    sha256=sha,
                )
            )
        provenance = raw.get("provenance") or {}
        if not isinstance(provenance, dict):
            raise ValueError("provenance is not an object")
        if not members:
            raise ValueError("it lists no members")
        return ModelSet(
            name=str(raw.get("name") or folder.name),
            path=folder,
            kind=kind,
            members=_sort_members(members),
            source=str(raw.get("source", "")),
            checksum_ok=False,
            installed_at=str(raw.get("installed_at", "")),
            provenance=provenance,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelStoreError(f"{path} is not a valid model-set manifest: {exc}") from exc


def _verify(model_set: ModelSet) -> ModelSet:
    """Hash every member file; set ``checksum_ok`` and ``problem`` accordingly."""
    problems = []
    for m in model_set.members:
        try:
            digest = sha256_file(m.path)
        except FileNotFoundError:
            problems.append(f"{m.path.name} is missing")
            continue
        except OSError as exc:
            problems.append(f"{m.path.name} cannot be read ({exc})")
            continue
        if digest != m.sha256:
            problems.append(f"{m.path.name} is corrupt (SHA-256 differs)")
    model_set.checksum_ok = not problems
    model_set.problem = "; ".join(problems) or None
    return model_set


def _reinstall_hint(model_set: ModelSet) -> str:
    if model_set.path.parent == models_dir():
        return f"Remove it with `soilmoisture models remove {model_set.name}` and install it again."
    return "Restore the folder from its original source."


# -- naming ---------------------------------------------------------------------------------------


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


# -- atomic folders -------------------------------------------------------------------------------


def _temp_folder(parent: Path, label: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{label}.", suffix=".part", dir=parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the set gets the usual mode
    return tmp


def _umask() -> int:
    """Return the process umask without changing it (os.umask is not thread-safe)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _commit_folder(tmp: Path, target: Path, replace: bool) -> None:
    """Rename the finished ``tmp`` onto ``target`` (replacing an existing one if asked)."""
    old: Path | None = None
    if target.exists():
        if not replace:
            raise ModelStoreError(f"{target} already exists")
        old = target.parent / f".{target.name}.old-{os.getpid()}-{tmp.name[-12:]}"
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- install -------------------------------------------------------------------------------


def _is_url(source: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source) is not None


def install(
    source: str | os.PathLike[str],
    name: str | None = None,
    progress: Progress | None = None,
    *,
    replace: bool = False,
) -> ModelSet:
    """Install the published DenseSM 9 km ensemble into the user's model store.

    Args:
        source: a folder holding ``coarse_{d}_{w}.pt`` files (and ideally ``SHA256SUMS``), the
            authors' ``DenseSM_9km.zip`` (members may sit in a sub-folder), or an ``http(s)``
            URL to that archive.
        name: name of the installed set (default ``"densesm_9km"``).
        progress: optional progress reporter; cancelling leaves nothing installed.
        replace: replace an installed set of the same name (else that is an error).

    Returns:
        The installed, verified :class:`ModelSet`.

    Raises:
        ModelStoreError: the source cannot be read or downloaded, the set is partial, a checksum
            differs, a file is not a DenseSM state dict of its size, or the name is taken.
        Cancelled: the user cancelled (nothing was installed).

    """
    progress = progress or NULL_PROGRESS
    name = _check_name(name if name is not None else DEFAULT_NAME)
    store = models_dir()
    target = store / name
    if target.exists() and not replace:
        raise ModelStoreError(
            f"a model set named {name!r} is already installed at {target}. Remove it first with "
            f"`soilmoisture models remove {name}`, or choose another name with --name."
        )
    src = os.fspath(source)
    if _is_url(src):
        scheme = src.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise ModelStoreError(
                f"cannot install from {src}: only http(s) URLs, folders and .zip files are "
                "supported"
            )
        tmp_zip = _download(src, store, progress.sub(0.0, 0.6))
        try:
            return _install_from_zip(tmp_zip, name, src, progress.sub(0.6, 1.0), replace)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp_zip.unlink()
    path = Path(src).expanduser()
    if path.is_dir():
        return _install_from_folder(path, name, progress, replace)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ModelStoreError(
                f"{path} is neither a folder of coarse_{{d}}_{{w}}.pt files nor a zip archive "
                "(expected the authors' DenseSM_9km.zip)"
            )
        return _install_from_zip(path, name, str(path.resolve()), progress, replace)
    raise ModelStoreError(
        f"{path} does not exist. Give the folder of the published models, the DenseSM_9km.zip "
        "archive or a URL to it."
    )


def _download(url: str, store: Path, progress: Progress) -> Path:
    """Download ``url`` to a temporary file in the store folder; return its path."""
    store.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download.", suffix=".zip.part", dir=store)
    tmp = Path(tmp_name)
    progress.message(f"downloading {url}")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "soilmoisture"})
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                    total = int(response.headers.get("Content-Length") or 0)
                    if total > MAX_ARCHIVE_BYTES:
                        raise ModelStoreError(
                            f"{url} is {total / 1e9:.1f} GB, more than the "
                            f"{MAX_ARCHIVE_BYTES / 1e9:.0f} GB an ensemble archive may have"
                        )
                    done = 0
                    while chunk := response.read(_CHUNK):
                        progress.check()
                        done += len(chunk)
                        if done > MAX_ARCHIVE_BYTES:
                            raise ModelStoreError(
                                f"{url} is larger than the {MAX_ARCHIVE_BYTES / 1e9:.0f} GB an "
                                "ensemble archive may have"
                            )
                        out.write(chunk)
                        if total:
                            progress.fraction(done / total)
            except urllib.error.HTTPError as exc:
                raise ModelStoreError(
                    f"could not download {url}: HTTP {exc.code} {exc.reason}. {INSTALL_HINT}"
                ) from exc
            except urllib.error.URLError as exc:
                raise ModelStoreError(
                    f"could not download {url}: {exc.reason}. {INSTALL_HINT}"
                ) from exc
            except (OSError, ValueError) as exc:  # timeouts, resets, bad URLs
                raise ModelStoreError(f"could not download {url}: {exc}. {INSTALL_HINT}") from exc
        progress.fraction(1.0)
        return tmp
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _install_from_folder(folder: Path, name: str, progress: Progress, replace: bool) -> ModelSet:
    files = _find_published_files(folder)
    if not files:
        subs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if len(subs) == 1:
            folder = subs[0]
            files = _find_published_files(folder)
    sums_path = folder / SUMS
    sums_text = sums_path.read_text(encoding="utf-8") if sums_path.is_file() else None
    sources = {n: (lambda p=p: p.open("rb")) for n, p in files.items()}
    return _assemble(sources, sums_text, name, str(folder.resolve()), progress, replace, folder)


def _find_published_files(folder: Path) -> dict[str, Path]:
    return {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.is_file() and _published_member(p.name) is not None
    }


def _install_from_zip(
    archive: Path, name: str, source: str, progress: Progress, replace: bool
) -> ModelSet:
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelStoreError(f"{archive} cannot be read as a zip archive: {exc}") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ARCHIVE_ENTRIES:
            raise ModelStoreError(
                f"{archive} has {len(infos)} entries; this is not the model archive"
            )
        wanted: dict[str, zipfile.ZipInfo] = {}
        sums_info: zipfile.ZipInfo | None = None
        for info in infos:
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if not parts:
                continue
            base = parts[-1]
            is_member = _published_member(base) is not None
            if not is_member and base != SUMS:
                continue  # ignore logs, read-me files, __MACOSX/._* resource forks, ...
            if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise ModelStoreError(
                    f"{archive} holds an unsafe member path {info.filename!r}; refusing to read it"
                )
            if any(p.startswith(".") or p == "__MACOSX" for p in parts[:-1]):
                continue
            if info.flag_bits & 0x1:
                raise ModelStoreError(f"{archive}: {info.filename} is encrypted")
            if info.file_size > MAX_MEMBER_BYTES:
                raise ModelStoreError(
                    f"{archive}: {info.filename} is {info.file_size / 1e6:.0f} MB, larger than "
                    f"any DenseSM member ({MAX_MEMBER_BYTES / 1e6:.0f} MB at most)"
                )
            if is_member:
                if base in wanted:
                    raise ModelStoreError(
                        f"{archive} holds {base} twice ({wanted[base].filename} and "
                        f"{info.filename}); cannot tell which to install"
                    )
                wanted[base] = info
            elif sums_info is None or len(parts) < len(PurePosixPath(sums_info.filename).parts):
                sums_info = info
        sums_text = None
        if sums_info is not None:
            sums_text = _read_zip_member(zf, sums_info, archive).decode("utf-8", errors="replace")
        sources = {
            n: (lambda i=i: io.BytesIO(_read_zip_member(zf, i, archive))) for n, i in wanted.items()
        }
        return _assemble(sources, sums_text, name, source, progress, replace, archive)


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path) -> bytes:
    """Read one member, never more than its declared size nor the member cap."""
    buf = io.BytesIO()
    try:
        with zf.open(info) as f:
            while chunk := f.read(_CHUNK):
                if buf.tell() + len(chunk) > min(info.file_size, MAX_MEMBER_BYTES):
                    raise ModelStoreError(
                        f"{archive}: {info.filename} is larger than it claims; refusing it"
                    )
                buf.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise ModelStoreError(f"{archive}: {info.filename} cannot be extracted: {exc}") from exc
    return buf.getvalue()


def _assemble(
    sources: Mapping[str, Any],
    sums_text: str | None,
    name: str,
    source: str,
    progress: Progress,
    replace: bool,
    where: Path,
) -> ModelSet:
    """Copy, verify and install the published members given as ``{file name: opener}``."""
    required = [f"{m}.pt" for m in PUBLISHED_MEMBERS]
    missing = [f for f in required if f not in sources]
    if missing:
        hint = "" if len(missing) < len(required) else " (no coarse_{d}_{w}.pt file found)"
        raise ModelStoreError(
            f"{where} does not hold the complete DenseSM 9 km ensemble{hint}: "
            f"{len(missing)} of {len(required)} members are missing: {', '.join(missing)}"
        )
    extra = sorted(set(sources) - set(required))
    if extra:
        log.info("ignoring files that are not published members: %s", ", ".join(extra))
    if sums_text is not None:
        expected = parse_sha256sums(sums_text, f"{where}/{SUMS}")
        checked_against = f"the {SUMS} shipped with the set"
    else:
        expected = PUBLISHED_SHA256
        checked_against = "the checksums of the published files"

    store = models_dir()
    tmp = _temp_folder(store, f"installing-{name}")
    try:
        members: list[MemberInfo] = []
        for i, file_name in enumerate(required):
            progress.check()
            member_name, depth, width = _published_member(file_name)  # type: ignore[misc]
            progress.message(f"verifying {file_name}")
            with sources[file_name]() as f:
                data = f.read(MAX_MEMBER_BYTES + 1)
            if len(data) > MAX_MEMBER_BYTES:
                raise ModelStoreError(f"{where}: {file_name} is too large to be a DenseSM member")
            digest = hashlib.sha256(data).hexdigest()
            want = expected.get(file_name)
            if want is None:
                raise ModelStoreError(f"{where}: {SUMS} lists no checksum for {file_name}")
            if digest != want:
                raise ModelStoreError(
                    f"{where}: {file_name} is corrupt: its SHA-256 {digest} differs from "
                    f"{want} ({checked_against}). Download the archive again."
                )
            sd = _load_state_dict_bytes(data, file_name)
            _check_state_dict(sd, depth, width, file_name)
            (tmp / file_name).write_bytes(data)
            members.append(
                MemberInfo(member_name, depth, width, target_path(name) / file_name, digest)
            )
            progress.fraction((i + 1) / len(required))
        matches = all(m.sha256 == PUBLISHED_SHA256.get(m.path.name) for m in members)
        model_set = ModelSet(
            name=name,
            path=target_path(name),
            kind="pretrained",
            members=_sort_members(members),
            source=source,
            checksum_ok=True,
            installed_at=_now(),
            provenance={**PUBLISHED_PROVENANCE, "matches_published_checksums": matches},
        )
        _write_manifest(tmp, model_set)
        _commit_folder(tmp, target_path(name), replace)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress.message(f"installed {name} ({len(members)} members)")
    return model_set


def target_path(name: str) -> Path:
    """Folder of the installed set ``name`` (whether or not it exists)."""
    return models_dir() / _check_name(name)


# -- save / load / list / remove ------------------------------------------------------------------


def save_model_set(
    folder: str | os.PathLike[str],
    state_dicts: Mapping[str, Mapping[str, torch.Tensor]],
    kind: str = "adapted",
    provenance: Mapping[str, Any] | None = None,
    name: str | None = None,
    *,
    source: str = "",
    replace: bool = False,
) -> ModelSet:
    """Save an ensemble (e.g. adapted weights) as a model set folder, atomically.

    Each member is written to ``{member name}.pt`` (CPU tensors, a plain state dict), with a
    ``SHA256SUMS`` and a ``manifest.json``. Depth and width of each member are read off its
    weights, which are checked against the DenseSM architecture before anything is written.

    Args:
        folder: the set's folder, e.g. ``models_dir() / "msda_scan"`` to save it into the store
            (``folder.name`` must then be a valid set name), or any other folder.
        state_dicts: ``{member name: state_dict}``, e.g. ``{"coarse_2_16": {...}, ...}``.
        kind: ``"adapted"`` or ``"pretrained"``.
        provenance: free-form JSON-serialisable details (method, alpha, stations, dates, ...).
        name: the set's name (default: the folder's name).
        source: what produced it (e.g. the base set's name); stored in the manifest.
        replace: replace an existing folder (else that is an error).

    Returns:
        The saved :class:`ModelSet`.

    Raises:
        ModelStoreError: bad kind, name or member name, a member that is not a DenseSM state
            dict, non-serialisable provenance, or an existing folder.

    """
    import torch

    folder = Path(folder).expanduser()
    name = _check_name(name if name is not None else folder.name)
    if kind not in KINDS:
        raise ModelStoreError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not state_dicts:
        raise ModelStoreError("cannot save an empty ensemble: no member state dicts given")
    prov = dict(provenance or {})
    try:
        json.dumps(prov)
    except (TypeError, ValueError) as exc:
        raise ModelStoreError(f"provenance must be JSON-serialisable: {exc}") from exc
    if folder.exists() and not replace:
        raise ModelStoreError(f"{folder} already exists; choose another folder or replace it")
    infos: list[tuple[str, int, int, dict[str, torch.Tensor]]] = []
    for member_name, sd in state_dicts.items():
        if not _MEMBER_RE.match(member_name):
            raise ModelStoreError(
                f"invalid member name {member_name!r}: use letters, digits, '_', '-' or '.'"
            )
        depth, width = infer_architecture(sd, f"member {member_name}")
        _check_state_dict(sd, depth, width, f"member {member_name}")
        cpu = {k: v.detach().to("cpu").clone().contiguous() for k, v in sd.items()}
        infos.append((member_name, depth, width, cpu))

    tmp = _temp_folder(folder.parent, f"saving-{folder.name}")
    try:
        members = []
        for member_name, depth, width, cpu in infos:
            file_path = tmp / f"{member_name}.pt"
            torch.save(cpu, file_path)
            digest = sha256_file(file_path)
            members.append(MemberInfo(member_name, depth, width, folder / file_path.name, digest))
        model_set = ModelSet(
            name=name,
            path=folder,
            kind=kind,
            members=_sort_members(members),
            source=source,
            checksum_ok=True,
            installed_at=_now(),
            provenance=prov,
        )
        _write_manifest(tmp, model_set)
        _commit_folder(tmp, folder, replace)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return model_set


def load_model_set(name_or_path: str | os.PathLike[str], *, verify: bool = True) -> ModelSet:
    """Open an installed set by name, or a set folder by path, and verify its checksums.

    A name is looked up in the store first. A folder may be a saved set (with ``manifest.json``)
    or a plain folder of the published ``coarse_{d}_{w}.pt`` files with their ``SHA256SUMS``
    (e.g. the unpacked archive), which is then opened in place without installing it.

    Args:
        name_or_path: an installed set's name, or a folder.
        verify: hash every member file (default); a mismatch is an error.

    Returns:
        The :class:`ModelSet` (``checksum_ok`` True when verified).

    Raises:
        ModelStoreError: unknown name (the message lists installed sets, or says how to install
            one), a broken manifest, or a missing or corrupt member file.

    """
    text = os.fspath(name_or_path)
    candidate = models_dir() / text if _NAME_RE.match(text) else None
    if candidate is not None and (candidate / MANIFEST).is_file():
        model_set = _read_manifest(candidate)
    else:
        path = Path(text).expanduser()
        if path.is_dir() and (path / MANIFEST).is_file():
            model_set = _read_manifest(path)
        elif path.is_dir() and _find_published_files(path):
            model_set = _open_plain_folder(path)
        else:
            raise ModelStoreError(_unknown_set_message(text))
    if verify:
        _verify(model_set)
        if not model_set.checksum_ok:
            raise ModelStoreError(
                f"model set {model_set.name!r} at {model_set.path} failed verification: "
                f"{model_set.problem}. {_reinstall_hint(model_set)}"
            )
    return model_set


def _open_plain_folder(folder: Path) -> ModelSet:
    files = _find_published_files(folder)
    sums_path = folder / SUMS
    if sums_path.is_file():
        expected = parse_sha256sums(sums_path.read_text(encoding="utf-8"), str(sums_path))
    else:
        expected = PUBLISHED_SHA256
    members = []
    missing = []
    for file_name in (f"{m}.pt" for m in PUBLISHED_MEMBERS):
        if file_name not in files:
            missing.append(file_name)
            continue
        member_name, depth, width = _published_member(file_name)  # type: ignore[misc]
        sha = expected.get(file_name)
        if sha is None:
            raise ModelStoreError(f"{sums_path} lists no checksum for {file_name}")
        members.append(MemberInfo(member_name, depth, width, files[file_name], sha))
    if missing:
        raise ModelStoreError(
            f"{folder} does not hold the complete DenseSM 9 km ensemble: {len(missing)} members "
            f"are missing: {', '.join(missing)}"
        )
    return ModelSet(
        name=folder.name,
        path=folder,
        kind="pretrained",
        members=_sort_members(members),
        source=str(folder.resolve()),
        checksum_ok=False,
        provenance=dict(PUBLISHED_PROVENANCE),
    )


def _unknown_set_message(text: str, as_path: bool = True) -> str:
    installed = [s.name for s in list_installed(verify=False)]
    if not installed:
        return (
            f"no model set named {text!r}, and no model set is installed yet. Install the "
            "published DenseSM 9 km ensemble with `soilmoisture models install --from "
            "/path/to/DenseSM_9km.zip` (or a folder of its coarse_{d}_{w}.pt files)."
        )
    return (
        f"no model set named {text!r}"
        + (" (nor a model-set folder at that path)" if as_path else "")
        + f". Installed sets: {', '.join(installed)}. See `soilmoisture models list`."
    )


def list_installed(*, verify: bool = True) -> list[ModelSet]:
    """List the sets in the store, sorted by name.

    A set whose manifest cannot be read is still listed (kind ``"unknown"``, no members,
    ``checksum_ok`` False, ``problem`` saying why), so that it can be seen and removed.

    Args:
        verify: hash every member file to fill ``checksum_ok`` (default).

    Returns:
        The installed sets.

    """
    store = models_dir()
    if not store.is_dir():
        return []
    out = []
    for folder in sorted(store.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            model_set = _read_manifest(folder)
        except ModelStoreError as exc:
            out.append(ModelSet(folder.name, folder, "unknown", [], "", False, problem=str(exc)))
            continue
        model_set.name = folder.name
        if verify:
            _verify(model_set)
        out.append(model_set)
    return out


def remove(name: str) -> Path:
    """Remove an installed set from the store.

    The folder is first renamed to a hidden name (so it disappears at once), then deleted.

    Args:
        name: the set's name.

    Returns:
        The folder that was removed.

    Raises:
        ModelStoreError: no set of that name is installed.

    """
    _check_name(name)
    target = models_dir() / name
    if not target.is_dir():
        raise ModelStoreError(_unknown_set_message(name, as_path=False))
    trash = models_dir() / f".removing-{name}-{os.getpid()}"
    if trash.exists():
        shutil.rmtree(trash, ignore_errors=True)
    os.replace(target, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return target
