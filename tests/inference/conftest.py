"""Fixtures of the inference tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from inference_helpers import RasterFactory, write_raster


@pytest.fixture
def make_raster(tmp_path: Path) -> RasterFactory:
    """Write a random float32 raster with per-band wavelength tags."""

    def make(
        height: int = 70,
        width: int = 90,
        bands: int = 6,
        name: str = 'scene.tif',
        seed: int = 0,
        with_wavelengths: bool = True,
        **kwargs: Any,
    ) -> Path:
        rng = np.random.default_rng(seed)
        data = rng.normal(size=(bands, height, width)).astype('float32')
        wl = list(np.linspace(450.0, 900.0, bands)) if with_wavelengths else None
        return write_raster(tmp_path / name, data, wavelengths=wl, **kwargs)

    return make
