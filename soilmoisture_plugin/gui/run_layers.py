"""A run's maps in the project: one layer group per run, styled, with the stations on top.

The dock calls :func:`add_run_group` when a run is done; the group is named by
:func:`run_group_name` (dates, method, time: unique) and opened in the Layers panel, where its
legend says m³/m³.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from qgis.core import QgsProject

from ..i18n import tr
from ..styling import soil_moisture_layers


def run_group_name(result: Any, method: str) -> str:
    """Name of a run's layer group: its dates, its method and when it ran (unique)."""
    dates = sorted(result.maps)
    when = dates[0].isoformat() if len(dates) == 1 else f"{dates[0]} – {dates[-1]}"
    base = tr("Soil moisture {dates} {method}").format(dates=when, method=method.upper()).strip()
    stamp = dt.datetime.now().strftime("%H:%M")
    root = QgsProject.instance().layerTreeRoot()
    names = {g.name() for g in root.findGroups()}
    name = f"{base} ({stamp})"
    n = 2
    while name in names:
        name = f"{base} ({stamp}, {n})"
        n += 1
    return name


def add_run_group(result: Any, method: str, unreadable: Callable[[str], None]) -> tuple[Any, list]:
    """Add a run's maps as one group at the top of the layer tree (mean shown, spread hidden).

    A map's SMAP blend (``result.blended``) is added under it; of the two, the one that did
    better at held-out stations (``metrics["smap_blend"]["map"]["recommended"]``) is shown.

    Args:
        result: The run's result (``maps``, ``blended``: date to GeoTIFF path).
        method: The adaptation method (in the group's name).
        unreadable: Called with a message for each map that could not be opened.

    Returns:
        The layer tree group and the ids of the layers added.

    """
    project = QgsProject.instance()
    group = project.layerTreeRoot().insertGroup(0, run_group_name(result, method))
    layer_ids = []
    blended = getattr(result, "blended", None) or {}
    record = ((getattr(result, "metrics", None) or {}).get("smap_blend") or {}).get("map") or {}
    blend_first = record.get("recommended") == "blend"
    for date in sorted(result.maps):
        day = date.isoformat()
        maps = [(result.maps[date], tr("Soil moisture {date}").format(date=day), not blend_first)]
        if date in blended:
            name = tr("Soil moisture {date}, SMAP blend").format(date=day)
            maps.append((blended[date], name, blend_first))
        for path, name, shown in maps:
            layers = soil_moisture_layers(str(path), name)
            if not layers:
                unreadable(tr("The map {path} could not be opened.").format(path=path))
                continue
            for k, layer in enumerate(layers):
                project.addMapLayer(layer, False)
                group.addLayer(layer)
                layer_ids.append(layer.id())
                if k or not shown:
                    group.findLayer(layer.id()).setItemVisibilityChecked(False)
    return group, layer_ids


def expand_in_layers_panel(iface: Any, group: Any) -> None:
    """Open the run's group in the Layers panel: its legend says m³/m³."""
    view = getattr(iface, "layerTreeView", lambda: None)()
    if view is None:
        return
    try:
        # the view's own node2index: QGIS >= 3.18 puts a proxy model between view and tree
        index_of = getattr(view, "node2index", None) or view.layerTreeModel().node2index
        view.expand(index_of(group))
        for child in group.children():
            view.expand(index_of(child))
    except (AttributeError, RuntimeError):  # the group was removed meanwhile
        return


def move_to_top(layer_id: str | None) -> None:
    """Move a layer to the top of the layer tree (stations drawn over the rasters)."""
    if not layer_id:
        return
    root = QgsProject.instance().layerTreeRoot()
    node = root.findLayer(layer_id)
    if node is None:
        return
    parent = node.parent()
    clone = node.clone()
    root.insertChildNode(0, clone)
    parent.removeChildNode(node)
