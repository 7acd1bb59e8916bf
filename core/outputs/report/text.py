"""Number and unit formatting shared by the report's charts and its HTML page."""

from __future__ import annotations

import html
import math
from typing import Any

_UNIT = "m³/m³"


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    if not math.isfinite(v):
        return "–"
    return f"{v:.{digits}f}"
