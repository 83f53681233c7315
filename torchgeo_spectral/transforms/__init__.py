"""Spectral transforms and augmentations that keep wavelengths consistent."""
