"""``soilmoisture models``: install, list and remove model sets in the user's store."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..model import store
from ..paths import models_dir


def register(subparsers: Any) -> None:
    """Add the ``models`` command group to the CLI.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.

    """
    parser = subparsers.add_parser(
        "models",
        help="install, list and remove DenseSM model sets",
        description=f"Manage the model sets in the user's model store ({models_dir()}).",
    )
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _help(parser))

    p_install = sub.add_parser(
        "install",
        help="install the published DenseSM 9 km ensemble",
        description=(
            "Install the 25 published DenseSM 9 km models from a folder of coarse_{d}_{w}.pt "
            "files, from the authors' DenseSM_9km.zip, or from an http(s) URL to that archive. "
            "Every file is checked against its SHA-256 before anything is installed."
        ),
    )
    p_install.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="PATH_OR_URL",
        help="folder, DenseSM_9km.zip or http(s) URL",
    )
    p_install.add_argument(
        "--name", default=store.DEFAULT_NAME, help=f"name of the set (default {store.DEFAULT_NAME})"
    )
    p_install.add_argument(
        "--force", action="store_true", help="replace an installed set of the same name"
    )
    p_install.set_defaults(func=_install)

    p_list = sub.add_parser("list", help="list installed model sets and verify their checksums")
    p_list.set_defaults(func=_list)

    p_remove = sub.add_parser("remove", help="remove an installed model set")
    p_remove.add_argument("name", metavar="NAME", help="name of the set (see `models list`)")
    p_remove.set_defaults(func=_remove)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 1


def _install(args: argparse.Namespace) -> int:
    from ._progress import TerminalProgress

    with TerminalProgress() as progress:
        model_set = store.install(
            args.source, name=args.name, progress=progress, replace=args.force
        )
    print(
        f"Installed {model_set.name!r} ({len(model_set.members)} members, checksums verified) "
        f"in {model_set.path}; origin: {model_set.origin_label}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    sets = store.list_installed()
    if not sets:
        print(
            f"No model set is installed in {models_dir()}.\n"
            "Install the published ensemble with "
            "`soilmoisture models install --from /path/to/DenseSM_9km.zip`."
        )
        return 0
    rows = [("NAME", "KIND", "MEMBERS", "CHECKSUMS", "ORIGIN", "SOURCE")]
    for s in sets:
        status = "ok" if s.checksum_ok else "FAILED"
        origin = s.origin if s.members else "-"
        rows.append((s.name, s.kind, str(len(s.members)), status, origin, s.source or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5])
    for s in sets:
        if s.members and s.origin == "modified":
            print(
                f"{s.name}: presents itself as the published DenseSM 9 km ensemble but its "
                "weights differ from the published files (the checksums known to this tool). "
                f"Reinstall it from the authors' archive: `soilmoisture models install --from "
                f"DenseSM_9km.zip --name {s.name} --force`.",
                file=sys.stderr,
            )
    bad = [s for s in sets if not s.checksum_ok]
    for s in bad:
        print(
            f"{s.name}: {s.problem}. Remove it with `soilmoisture models remove {s.name}` and "
            "install it again.",
            file=sys.stderr,
        )
    return 1 if bad else 0


def _remove(args: argparse.Namespace) -> int:
    path = store.remove(args.name)
    print(f"Removed {args.name!r} ({path})")
    return 0


def load_ensemble(name_or_path: Any, device: str = "cpu") -> Any:
    """Load a model set for a command and say on stderr which set it is and where it comes from.

    A set whose weights differ from the published files while it presents itself as the
    published ensemble is used (it may be deliberate) but flagged on every load.

    Args:
        name_or_path: Installed set name or model-set folder.
        device: ``"cpu"`` or ``"cuda"``.

    Returns:
        The :class:`core.model.ensemble.Ensemble`.

    Raises:
        ModelStoreError: Unknown, incomplete or corrupt set.

    """
    from ..model.ensemble import Ensemble

    model_set = store.load_model_set(name_or_path)
    say_origin(model_set)
    ensemble = Ensemble.from_model_set(model_set, device=device)
    ensemble.provenance = {**(ensemble.provenance or {}), "origin": model_set.origin}
    return ensemble


def say_origin(model_set: store.ModelSet) -> None:
    """Print on stderr which model set a command uses and whether it is the published one."""
    print(f"models: {model_set.name} ({model_set.kind}), {model_set.origin_label}", file=sys.stderr)
    if model_set.origin == "modified":
        print(
            f"warning: model set {model_set.name!r} claims to be the published DenseSM 9 km "
            "ensemble, but its weights differ from the published files; its predictions are not "
            "those of the published method. Reinstall it from DenseSM_9km.zip to use the "
            "published weights.",
            file=sys.stderr,
        )
