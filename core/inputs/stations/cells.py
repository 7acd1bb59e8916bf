"""Cell assignment: which 50 m and 9 km EASE-2 cells the stations' readings fall in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..grid import LEVELS, lonlat_to_rowcol


def _add_cells50(frame: pd.DataFrame) -> None:
    """Add the ``row50``/``col50`` columns: the 50 m cell of each row's lon/lat."""
    row50, col50 = lonlat_to_rowcol(
        frame["lon"].to_numpy(dtype=np.float64),
        frame["lat"].to_numpy(dtype=np.float64),
        "50m",
    )
    frame["row50"] = row50
    frame["col50"] = col50


def _add_cells9(frame: pd.DataFrame) -> None:
    """Add the ``row9``/``col9`` columns: the 9 km cell holding each row's 50 m cell."""
    k = LEVELS["50m"] // LEVELS["9km"]
    frame["row9"] = frame["row50"] // k
    frame["col9"] = frame["col50"] // k
