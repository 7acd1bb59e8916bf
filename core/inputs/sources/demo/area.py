"""Where and when the demo is: the 2 x 2 block of 9 km cells, its grids, and its calendar.

The demo area's place on the EASE-2 grid and its AOI, the sizes of its 50 m and 250 m grids, the
simulated period, and the dates of the simulated Sentinel-1 acquisitions and NDVI composites.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from ...grid import GridWindow

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

# -- the demo area --------------------------------------------------------------------------------

DEMO_ROW0, DEMO_COL0, DEMO_ROWS, DEMO_COLS = 326, 883, 2, 2
"""The demo area: 9 km EASE-2 cells rows 326-327, cols 883-884 (north-central Oklahoma)."""
DEMO_AOI_BBOX: tuple[float, float, float, float] = (-97.520, 36.590, -97.418, 36.686)
"""The demo AOI (lon_min, lat_min, lon_max, lat_max), about 10 x 10 km in the area's middle."""
DEMO_LATITUDE = 36.638
"""Latitude of the area's centre (degrees), for the radiation terms."""

H50, W50 = DEMO_ROWS * 180, DEMO_COLS * 180
H250, W250 = DEMO_ROWS * 36, DEMO_COLS * 36
CELL_M = 9008.055210146 / 180

WEATHER_START = dt.date(2018, 11, 1)
"""First day of the simulated weather (the NDVI/weather windows reach a year back)."""
TRUTH_START = dt.date(2019, 9, 1)
"""First day of the water balance (four months of spin-up before the first acquisition)."""
SIM_END = dt.date(2021, 1, 31)
"""Last simulated day."""
FIRST_ACQUISITION = dt.date(2020, 1, 4)
ACQUISITION_REPEAT_DAYS = 12
LAST_ACQUISITION = dt.date(2020, 12, 29)
ORBIT_PASS = "ASCENDING"
RELATIVE_ORBIT = 88


def demo_window9() -> GridWindow:
    """Return the whole demo area as a window of whole 9 km cells (2 x 2)."""
    return GridWindow("9km", DEMO_ROW0, DEMO_COL0, DEMO_ROWS, DEMO_COLS)


def acquisition_dates() -> list[dt.date]:
    """Dates of the simulated Sentinel-1 acquisitions (every 12 days, one orbit)."""
    out = []
    d = FIRST_ACQUISITION
    while d <= LAST_ACQUISITION:
        out.append(d)
        d += dt.timedelta(days=ACQUISITION_REPEAT_DAYS)
    return out


def composite_dates() -> list[dt.date]:
    """Dates of the merged MOD13Q1/MYD13Q1-like composites: day 1, 9, 17, ... of each year."""
    out = []
    for year in range(WEATHER_START.year, SIM_END.year + 1):
        for k in range(46):
            d = dt.date(year, 1, 1) + dt.timedelta(days=8 * k)
            if d.year == year:
                out.append(d)
    return out


def _unit_coordinates() -> tuple[F64, F64]:
    """Coordinates of the 50 m cells scaled to [-1, 1] across the area (east, north)."""
    rows, cols = np.mgrid[0:H50, 0:W50].astype(np.float64)
    return (cols - (W50 - 1) / 2.0) / (W50 / 2.0), ((H50 - 1) / 2.0 - rows) / (H50 / 2.0)
