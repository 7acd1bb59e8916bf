"""The summary of a batch: a fixed-width text table and the ``batch_summary`` CSV and JSON files."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from ...atomic import write_text
from .jobs import JobResult


def format_summary(results: Sequence[JobResult]) -> str:
    """Format the summary table as text (name, status, maps, RMSE or error message).

    Args:
        results: Outcomes of :func:`run_batch`.

    Returns:
        A fixed-width table followed by a count line.

    """
    header = ("name", "status", "maps", "RMSE m3/m3", "time", "details")
    rows = []
    for r in results:
        rmse = "" if r.rmse is None else f"{r.rmse:.3f} ({r.rmse_kind})"
        details = r.message if r.status != "ok" else (r.message or r.out_dir)
        if r.simulated:
            details = "SIMULATED; " + details
        rows.append((r.name, r.status, str(len(r.maps)), rmse, f"{r.seconds:.0f}s", details))
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(header)
    ]
    widths[-1] = len(header[-1])

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)) + (
            "  " + cells[-1]
        )

    ok = sum(r.status == "ok" for r in results)
    out = [line(header), line(["-" * w for w in widths[:-1]] + ["-" * 7])]
    out += [line(row) for row in rows]
    out.append(f"{ok} of {len(results)} job(s) succeeded, {len(results) - ok} failed")
    return "\n".join(out)


def write_summary(results: Sequence[JobResult], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``batch_summary.csv`` and ``batch_summary.json`` atomically; returns the CSV path."""
    out = Path(out_dir)
    buf = io.StringIO()
    cols = [
        "name",
        "status",
        "maps",
        "maps_smap_blend",
        "rmse",
        "rmse_kind",
        "seconds",
        "out_dir",
        "key",
        "message",
    ]
    writer = csv.DictWriter(buf, fieldnames=cols)
    writer.writeheader()
    for r in results:
        row = asdict(r)
        row["maps"] = ";".join(r.maps)
        row["maps_smap_blend"] = ";".join(r.maps_smap_blend)
        writer.writerow({c: row[c] for c in cols})
    write_text(out / "batch_summary.csv", buf.getvalue())
    write_text(out / "batch_summary.json", json.dumps([asdict(r) for r in results], indent=2))
    return out / "batch_summary.csv"
