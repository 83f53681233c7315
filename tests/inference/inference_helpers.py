"""Helpers of the inference tests: synthetic rasters and toy models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import torch
from rasterio.transform import from_origin
from torch import Tensor, nn

RasterFactory = Callable[..., Path]


def write_raster(
    path: Path,
    data: np.ndarray,
    *,
    crs: str | None = 'EPSG:32633',
    transform: Any = None,
    nodata: float | None = -9999.0,
    wavelengths: Sequence[float] | None = None,
) -> Path:
    count, height, width = data.shape
    profile: dict[str, Any] = {
        'driver': 'GTiff',
        'height': height,
        'width': width,
        'count': count,
        'dtype': 'float32',
        'transform': transform or from_origin(500000.0, 5800000.0, 30.0, 30.0),
        'nodata': nodata,
    }
    if crs is not None:
        profile['crs'] = crs
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data.astype('float32'))
        if wavelengths is not None:
            for i, wl in enumerate(wavelengths, start=1):
                dst.update_tags(i, wavelength=str(wl), wavelength_units='Nanometers')
    return path


class PointwiseModel(nn.Module):
    """A 1x1 convolution: every pixel's logits depend on that pixel only."""

    def __init__(self, bands: int, classes: int, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(bands, classes, 1)
        self.calls = 0

    def forward(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        self.calls += 1
        assert wavelengths.shape == (x.shape[1],)
        out: Tensor = self.conv(x)
        return out


class FailingModel(PointwiseModel):
    """Raises on the ``fail_at``-th call (simulated interruption)."""

    def __init__(self, bands: int, classes: int, fail_at: int) -> None:
        super().__init__(bands, classes)
        self.fail_at = fail_at

    def forward(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        if self.calls + 1 == self.fail_at:
            self.calls += 1
            raise KeyboardInterrupt('simulated interruption')
        return super().forward(x, wavelengths)


def read(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    with rasterio.open(path) as src:
        return src.read(), dict(src.profile)


def tiny_task_kwargs() -> dict[str, Any]:
    """A spectral ViT small enough for unit tests."""
    return {
        'model': 'spectral_vit_tiny',
        'patch_size': 4,
        'embed_dim': 32,
        'depth': 1,
        'num_heads': 2,
    }


def save_checkpoint(
    task: nn.Module, path: Path, cli: bool = True, **extra: Any
) -> Path:
    """Save a task as Lightning does (state_dict + hyper_parameters).

    With ``cli``, the hyperparameters record the task class as LightningCLI
    (``torchgeo fit``) does: ``_class_path`` and ``_instantiator``.
    """
    hparams = dict(task.hparams)  # type: ignore[arg-type]
    if cli:
        cls = type(task)
        hparams['_class_path'] = f'{cls.__module__}.{cls.__qualname__}'
        hparams['_instantiator'] = 'lightning.pytorch.cli.instantiate_module'
    hparams.update(extra)
    torch.save(
        {
            'state_dict': task.state_dict(),
            'hyper_parameters': hparams,
            'pytorch-lightning_version': '2.6.0',
        },
        path,
    )
    return path
