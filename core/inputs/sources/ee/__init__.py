"""Earth Engine machinery behind the ``gee`` source, one concern per module.

- :mod:`.expressions`: the Earth Engine expressions of every input (datasets, masks, listings).
- :mod:`.acquisitions`: Sentinel-1 acquisitions from footprints; the "no scene" message.
- :mod:`.scene_plan`: which composites and days a scene needs, from the metadata listing.
- :mod:`.scene_requests`: a scene's pixel requests, and the ``--dry-run`` request plan.
- :mod:`.assemble`: fetched arrays -> :class:`~core.inputs.sources.base.SceneInputs`.
- :mod:`.requests`: pixel and value requests (the fetcher seam) and their cache keys.
- :mod:`.tiling`: the service's limits and how a request is cut into tiles.
- :mod:`.tiled`: the fetcher that splits, parallelises and retries.
- :mod:`.service`: the calls to ``computePixels`` / ``computeValue``.
- :mod:`.caching`: the fetchers that serve from the on-disk cache.
- :mod:`.deadline`: a call abandoned after its deadline or on a cancel.
- :mod:`.grid_form`: which form of the EASE-2 grid the service accepts.
- :mod:`.failures`: what a failure means (retry, split, fatal) and its plain message.
- :mod:`.project`: the Cloud project and the credentials on disk.
- :mod:`.session`: initialising the client library (online, reused or offline).
- :mod:`.signin`: the browser sign-in.
- :mod:`.check`: ``ee-check``, one tiny request per dataset.

The source itself (registered as ``gee``) is :mod:`core.inputs.sources.earthengine`. ``ee`` is
imported inside functions only: the plugin imports these modules at start-up whether or not
earthengine-api is installed.
"""
