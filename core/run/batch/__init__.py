"""Batch runs: many "Adapt & Map" jobs from one CSV or YAML file, locally or on Dask.

A batch file lists jobs, one per CSV row or YAML list item, with these fields:

``name`` (required, unique)
    Label of the job; its outputs go to ``OUT/<name>/``.
``aoi`` (required)
    Vector file, ``xmin,ymin,xmax,ymax`` in lon/lat (``...@EPSG:xxxx`` for another CRS) or WKT.
``stations`` (required)
    Station files; in CSV separated by ``;`` (or ``|``), in YAML a list or a ``;``-string.
``dates`` (required)
    Map dates: ``2020-06-01;2020-06-13`` (YAML: a list), or a range ``2020-06-01:2020-07-01``
    (every Sentinel-1 date in it).
``method``, ``alpha``, ``source``, ``epochs``, ``min_epoch_steps``, ``batchnorm``,
``consistency``, ``seed``,
``device``, ``models``, ``train_start``, ``train_end``, ``reproject``, ``cross_validate``,
``baselines`` (optional)
    As for ``soilmoisture adapt-map``; empty cells take the defaults.

A YAML file is either a list of jobs or ``{defaults: {...}, jobs: [...]}``. Relative paths
(AOI files, station files) are taken relative to the batch file's folder.

Jobs are independent: each has its own output folder and a cache key (a SHA-256 over its
settings and the contents of its input files), and a failed job is reported in the summary and
does not stop the others. :func:`run_batch` hands the jobs to Dask distributed: an existing
scheduler (``scheduler="tcp://host:8786"``) or, by default, a local cluster of worker processes
(one thread each; every job's torch gets an equal share of the cores). The cache key is the Dask
task key, so a job submitted twice to the same cluster with identical inputs runs once.
"""

from .jobfile import read_jobs
from .jobs import BatchJob, JobResult, with_defaults
from .run import run_batch, run_job
from .summary import format_summary, write_summary

__all__ = [
    "BatchJob",
    "JobResult",
    "format_summary",
    "read_jobs",
    "run_batch",
    "run_job",
    "with_defaults",
    "write_summary",
]
