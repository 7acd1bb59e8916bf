"""Fetchers that serve requests from the on-disk :class:`~core.inputs.cache.ArrayCache`.

:class:`CachingFetcher` stores a pixel request only once all of it has arrived;
:class:`CachingValueFetcher` stores metadata answers that can no longer change. Offline (no
inner fetcher), a miss is an error that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ....errors import DataSourceError
from ....progress import Progress
from ...cache import ArrayCache
from .requests import Arrays, PixelFetcher, PixelRequest, ValueFetcher, ValueRequest


@dataclass
class CachingFetcher:
    """Serve requests from the on-disk cache; fetch and store on a miss.

    Attributes:
        inner: the fetcher used on a miss (None = offline: a miss is an error).
        cache: the array cache (default: the user's cache folder).

    """

    inner: PixelFetcher | None
    cache: ArrayCache = field(default_factory=ArrayCache)
    hits: int = 0
    misses: int = 0

    def fetch(self, request: PixelRequest, progress: Progress | None = None) -> Arrays:
        """Return cached arrays for the request's key, or fetch, store and return them.

        Raises:
            DataSourceError: on a miss when offline.

        """
        key = request.key()
        cached = self.cache.get(key)
        if cached is not None and all(b in cached for b in request.bands):
            self.hits += 1
            if progress is not None:
                progress.fraction(1.0)
            return {b: cached[b] for b in request.bands}
        self.misses += 1
        if self.inner is None:
            raise DataSourceError(
                f"{request.label or 'an input'} for this AOI and date is not in the cache and "
                "the source is offline: connect to the network and run once online, or use the "
                "demo source"
            )
        arrays = self.inner.fetch(request, progress)
        self.cache.put(key, {b: arrays[b] for b in request.bands})
        return arrays


@dataclass
class CachingValueFetcher:
    """Serve cacheable metadata requests from the on-disk cache.

    Attributes:
        inner: the fetcher used on a miss (None = offline).
        cache: the array cache (JSON entries).

    """

    inner: ValueFetcher | None
    cache: ArrayCache = field(default_factory=ArrayCache)

    def compute(self, request: ValueRequest, progress: Progress | None = None) -> Any:
        """Return the cached value, or compute it (and store when cacheable).

        Raises:
            DataSourceError: on a miss when offline.

        """
        key = request.key()
        if request.cacheable or self.inner is None:
            value = self.cache.get_json(key)
            if value is not None:
                return value
        if self.inner is None:
            raise DataSourceError(
                f"the {request.label} for this AOI and dates is not in the cache and the source "
                "is offline: connect to the network and run once online, or use the demo source"
            )
        value = self.inner.compute(request, progress)
        if request.cacheable:
            self.cache.put_json(key, value)
        return value
