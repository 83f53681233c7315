"""Spatially honest splits and samplers for labelled spectral scenes."""
