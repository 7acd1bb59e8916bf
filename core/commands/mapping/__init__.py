"""``soilmoisture adapt-map | demo | map | validate | batch``: the mapping commands.

* ``adapt-map``: adapt DenseSM-E to an AOI with its stations and map one or more dates;
* ``demo``: the same on the simulated demo scene (what ``make demo`` runs);
* ``map``: map new dates with a saved adapted ensemble (no retraining);
* ``validate``: validate any soil-moisture GeoTIFF against station files;
* ``batch``: many runs from a CSV/YAML file, locally or on a Dask cluster.

Every long command draws a progress bar on stderr; the first Ctrl-C asks the run to stop at the
next check (no half-written GeoTIFF is left behind), a second one interrupts at once.
"""

from .args import register
from .handlers import DEMO_MAP_DATE

__all__ = ["DEMO_MAP_DATE", "register"]
