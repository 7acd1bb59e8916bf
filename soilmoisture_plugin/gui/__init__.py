"""Widgets of the plugin: the Soil Moisture dock and its AOI map tool."""
