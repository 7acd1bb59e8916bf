#!/usr/bin/env python3
"""Stage the QGIS plugin folder ``soilmoisture/`` and zip it for "Install from ZIP".

The zip holds one top-level folder, ``soilmoisture/``, with the plugin root ``__init__.py``
(from ``soilmoisture_plugin/root_init.py``), ``metadata.txt``, the engine ``core/``, the QGIS
face ``soilmoisture_plugin/``, ``resources/``, the compiled translations ``i18n/*.qm``, and
LICENSE/README. Tests, caches and the virtual environment stay out, and no generic top-level
module (``core``) reaches QGIS's Python: inside QGIS the engine is ``soilmoisture.core``.

Usage:
    python scripts/package.py --out dist            # dist/soilmoisture-<version>.zip
    python scripts/package.py --link ~/.local/share/QGIS/QGIS3/profiles/default/python/plugins
        # development: a plugin folder of symbolic links to this checkout
"""

from __future__ import annotations

import argparse
import configparser
import fnmatch
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN_NAME = "soilmoisture"
PACKAGES = ("core", "soilmoisture_plugin")
EXCLUDE = (
    "__pycache__",
    "*.pyc",
    "*.pyo",
    "tests",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "*.egg-info",
    ".DS_Store",
)
DOC_FILES = ("LICENSE", "LICENSE.txt", "README.md")


def version(repo: Path = REPO) -> str:
    """The plugin version from ``metadata.txt``."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(repo / "metadata.txt", encoding="utf-8")
    return parser["general"]["version"]


def _excluded(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pat) for pat in EXCLUDE)


def _copy_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.iterdir()):
        if _excluded(item.name):
            continue
        if item.is_dir():
            _copy_tree(item, dst / item.name)
        else:
            shutil.copy2(item, dst / item.name)


def stage(dest_parent: Path, repo: Path = REPO, link: bool = False) -> Path:
    """Build the plugin folder ``<dest_parent>/soilmoisture``.

    Args:
        dest_parent: Folder that receives ``soilmoisture/`` (replaced if present).
        repo: The checkout to stage.
        link: Symbolic links to the checkout instead of copies (development, tests).

    Returns:
        The plugin folder.
    """
    target = dest_parent / PLUGIN_NAME
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(repo / "soilmoisture_plugin" / "root_init.py", target / "__init__.py")
    if link:
        for name in (*PACKAGES, "resources", "i18n", "metadata.txt"):
            os.symlink(repo / name, target / name)
        return target
    shutil.copy2(repo / "metadata.txt", target / "metadata.txt")
    for name in (*PACKAGES, "resources"):
        _copy_tree(repo / name, target / name)
    (target / "i18n").mkdir()
    for qm in sorted((repo / "i18n").glob("*.qm")):
        shutil.copy2(qm, target / "i18n" / qm.name)
    for doc in DOC_FILES:
        if (repo / doc).exists():
            shutil.copy2(repo / doc, target / doc)
    return target


def build_zip(out_dir: Path, repo: Path = REPO) -> Path:
    """Stage a copy and zip it to ``<out_dir>/soilmoisture-<version>.zip``; returns the zip."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not list((repo / "i18n").glob("*.qm")) and list((repo / "i18n").glob("*.ts")):
        print("warning: no compiled translations (run `make translations`)", file=sys.stderr)
    zip_path = out_dir / f"{PLUGIN_NAME}-{version(repo)}.zip"
    with tempfile.TemporaryDirectory() as tmp:
        folder = stage(Path(tmp), repo)
        part = zip_path.with_name(zip_path.name + ".part")
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(folder.parent).as_posix())
        os.replace(part, zip_path)
    return zip_path


def main(argv: list[str] | None = None) -> int:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", type=Path, help="folder for the release zip")
    group.add_argument("--link", type=Path, help="plugins folder for a development link")
    args = parser.parse_args(argv)
    if args.link:
        print(stage(args.link.expanduser(), link=True))
    else:
        print(build_zip(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
