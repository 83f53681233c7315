"""Tiled georeferenced prediction and embedding export."""
