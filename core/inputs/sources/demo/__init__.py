"""The demo source: a seeded, simulated scene that runs the product end to end with no account.

Everything it delivers is **simulated** and labelled so (``SceneInputs.simulated``, the
``attributes["source"]`` string, the acquisitions' platform, the station network name
``DEMO-SIMULATED``). Because its soil moisture truth is known at every 50 m cell, it doubles as
a benchmark: map-level error, not only station error.

The area is a 2 x 2 block of 9 km EASE-2 cells (about 18 x 18 km, 360 x 360 cells of 50 m) in
the cropland of north-central Oklahoma (near Lamont, the ARM Southern Great Plains site); the
AOI of about 10 x 10 km (:data:`DEMO_AOI_BBOX`) lies in its middle.

How the scene is made (all seeded, deterministic for a seed):

1. **Landscape** on the 50 m grid: a smooth synthetic DEM with a meandering valley, slope and
   aspect from it, a wetness index in [0, 1] standing in for the topographic wetness index
   ``ln(a / tan b)`` of Beven & Kirkby (1979) (high on the valley floor and in hollows, low on
   rises), smooth random sand/clay fields of silt loam texture (sand ~23 %, clay ~24 %, as the
   Kirkland and Renfrow silt loams of the Lamont area) with finer alluvium in the valley, bulk
   density, and a mosaic of 800 m fields (winter wheat, summer crop, grassland) with one
   irrigated field.
2. **Weather**, daily, regional: rain from a two-state Markov chain with gamma amounts and a
   spring maximum, each event with a random linear gradient across the area; 2 m temperature
   with a seasonal cycle and AR(1) anomalies; reference evapotranspiration from Hargreaves &
   Samani (1985) with extraterrestrial radiation from FAO-56 (Allen et al. 1998).
3. **Truth**: a daily water balance ("bucket") of the surface layer in every 50 m cell: rain in,
   evapotranspiration out (scaled by vegetation greenness and by a soil-water stress factor),
   drainage above field capacity (faster in sand), a lateral supply on the valley floor, and
   saturation excess. Wilting point, field capacity and saturation come from the texture with the
   pedotransfer equations of Saxton & Rawls (2006). The irrigated field is watered back to field
   capacity in the growing season.
4. **NDVI**: per-field phenology (double logistic), on the 250 m grid as 46 eight-day
   composites (MOD13Q1/MYD13Q1-like dates) with noise and occasional cloud contamination.
5. **ERA5-like** 46 eight-day means of the same weather per 9 km cell (precipitation as daily
   totals in m/day, as ERA5-Land's daily aggregates give them); **SMAP-like** 9 km values: block
   means of the truth + a bias + a retrieval error, on about two days in three, linearly
   interpolated to the date. The error is sized like SMAP's against dense in-situ networks
   (Colliander et al. 2017, Chan et al. 2018: ubRMSE about 0.04 m3/m3, biases of a few
   hundredths): a mean bias of +0.02 m3/m3 with a fixed offset per 9 km cell (sd 0.015), and
   an unbiased error of sd 0.04 made of a persistent part (AR(1), lag-one-day correlation 0.8,
   as vegetation and surface-temperature errors last for days) and a day-to-day part.
6. **Sentinel-1** (one ascending orbit, every 12 days): the water-cloud model of Attema & Ulaby
   (1978) with vegetation water content from NDVI after Jackson et al. (2004), over the
   semi-empirical bare-soil model of Oh, Sarabandi & Ulaby (1992), with the soil permittivity from
   the soil moisture by inverting Topp, Davis & Annan (1980). VV and VH in dB, the VH noise floor
   of the instrument added, and speckle: 25 ten-metre pixels of 4.4-look gamma speckle per 50 m
   cell, averaged in dB as the contract prescribes.
7. **Stations**: five 50 m cells in the AOI (one on the valley floor, one in the irrigated
   field), read every three hours as truth + sensor noise, written as ISMN "header + values"
   files (:func:`write_demo_stations`).

Where each part lives: :mod:`.area` (the demo area, its grids and calendar), :mod:`.landscape`
(1, and the station cells), :mod:`.weather` (2), :mod:`.truth` (3), :mod:`.source` (4, the eight-day
weather means of 5, and :class:`DemoSource`, which assembles a scene), :mod:`.smap` (the SMAP-like
values of 5), :mod:`.radar` (6) and :mod:`.stations` (7, the station files).
"""

from __future__ import annotations

from .area import (
    ACQUISITION_REPEAT_DAYS,
    CELL_M,
    DEMO_AOI_BBOX,
    DEMO_COL0,
    DEMO_COLS,
    DEMO_LATITUDE,
    DEMO_ROW0,
    DEMO_ROWS,
    F32,
    F64,
    FIRST_ACQUISITION,
    H50,
    H250,
    LAST_ACQUISITION,
    ORBIT_PASS,
    RELATIVE_ORBIT,
    SIM_END,
    TRUTH_START,
    W50,
    W250,
    WEATHER_START,
    acquisition_dates,
    composite_dates,
    demo_window9,
)
from .landscape import CROPS, FIELD_CELLS, IRRIGATED, DemoStation, saxton_rawls
from .radar import (
    LOOKS,
    NESZ_VH,
    PIXELS_PER_CELL,
    WAVELENGTH_CM,
    WCM_A,
    WCM_B,
    jackson_vwc,
    oh_soil_backscatter,
    simulated_backscatter,
    topp_permittivity,
    water_cloud,
)
from .smap import SMAP_AR1, SMAP_BIAS, SMAP_CELL_BIAS, SMAP_NOISE, SMAP_PERSISTENT, smap_error
from .source import SOURCE_LABEL, DemoSource
from .stations import NETWORK, SENSOR, STATION_NOISE, STATION_PERIOD, write_demo_stations
from .truth import IRRIGATION_DOY, LAYER_MM
from .weather import extraterrestrial_radiation_mm, hargreaves_pet

__all__ = [
    "ACQUISITION_REPEAT_DAYS",
    "CELL_M",
    "CROPS",
    "DEMO_AOI_BBOX",
    "DEMO_COL0",
    "DEMO_COLS",
    "DEMO_LATITUDE",
    "DEMO_ROW0",
    "DEMO_ROWS",
    "F32",
    "F64",
    "FIELD_CELLS",
    "FIRST_ACQUISITION",
    "H50",
    "H250",
    "IRRIGATED",
    "IRRIGATION_DOY",
    "LAST_ACQUISITION",
    "LAYER_MM",
    "LOOKS",
    "NESZ_VH",
    "NETWORK",
    "ORBIT_PASS",
    "PIXELS_PER_CELL",
    "RELATIVE_ORBIT",
    "SENSOR",
    "SIM_END",
    "SMAP_AR1",
    "SMAP_BIAS",
    "SMAP_CELL_BIAS",
    "SMAP_NOISE",
    "SMAP_PERSISTENT",
    "SOURCE_LABEL",
    "STATION_NOISE",
    "STATION_PERIOD",
    "TRUTH_START",
    "W50",
    "W250",
    "WAVELENGTH_CM",
    "WCM_A",
    "WCM_B",
    "WEATHER_START",
    "DemoSource",
    "DemoStation",
    "acquisition_dates",
    "composite_dates",
    "demo_window9",
    "extraterrestrial_radiation_mm",
    "hargreaves_pet",
    "jackson_vwc",
    "oh_soil_backscatter",
    "saxton_rawls",
    "simulated_backscatter",
    "smap_error",
    "topp_permittivity",
    "water_cloud",
    "write_demo_stations",
]
