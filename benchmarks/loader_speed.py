#!/usr/bin/env python3
"""Loader benchmark: can MixedCubeFolderDataModule keep up with MAE pretraining?

For a folder of cubes it measures, on the same batches:

* the loader's rate: batches/s of ``train_dataloader()`` with the in-memory
  cache (the default), the same plus the training augmentation (``train_aug``,
  which Lightning applies on the device after the transfer, so on a GPU it is
  not the loader's work), and without the cache (every patch read from disk, as
  before the cache existed);
* the MAE training step rate of ``spectral_vit_tiny`` (forward, backward and
  AdamW step of :class:`~torchgeo_spectral.models.SpectralMAE`, as built by
  :class:`~torchgeo_spectral.tasks.SpectralMAETask`) on those batches;

and prints a markdown table with their ratio (target: loader >= 3x the step
rate, so the loader never sets the pace). Runs on fake cubes written to a
temporary folder (a 224-band EnMAP-like raster with a nodata border and bad
bands, a 48-band VNIR proximal ENVI cube, a 13-band raster and one cube smaller
than the patch), and on the real excerpts in ``../shared/data`` when present
(EnMAP tiles, AVIRIS-NG radiance, a corn-kernel lab cube; linked, not copied).

    python benchmarks/loader_speed.py               # a few minutes on 2 cores
    python benchmarks/loader_speed.py --steps 2 --batches 10  # quicker
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import torch
from rasterio.transform import from_origin

from torchgeo_spectral.datamodules import MixedCubeFolderDataModule
from torchgeo_spectral.tasks import SpectralMAETask

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get('TORCHGEO_SPECTRAL_DATA', ROOT.parent / 'shared' / 'data'))


def _write_tif(
    path: Path, data: np.ndarray, wl: np.ndarray, nodata: float | None
) -> None:
    """Write a georeferenced GeoTIFF with per-band wavelength tags."""
    count, height, width = data.shape
    with rasterio.open(
        path,
        'w',
        driver='GTiff',
        height=height,
        width=width,
        count=count,
        dtype=data.dtype.name,
        crs='EPSG:32633',
        transform=from_origin(500000.0, 5800000.0, 30.0, 30.0),
        nodata=nodata,
        tiled=True,
    ) as dst:
        dst.write(data)
        for i, w in enumerate(wl):
            dst.update_tags(i + 1, wavelength=f'{w:.2f}', wavelength_units='Nanometers')


def _spectra(count: int, height: int, width: int, seed: int) -> np.ndarray:
    """Smooth random spectra (float32 reflectance x 10^4)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(500, 4000, (4, height, width)).astype(np.float32)
    t = np.linspace(0, 1, count, dtype=np.float32)
    shapes = np.stack([np.ones_like(t), t, t**2, np.sin(6 * t)])
    return np.einsum('kc,khw->chw', shapes, base / 4).astype(np.float32)


def write_fake_cubes(folder: Path) -> None:
    """Write the fake folder of cubes of four sensors (see the module doc)."""
    enmap = _spectra(224, 160, 160, 0).astype(np.int16)
    enmap[125:135] = -32768  # water-vapour bands: all nodata
    enmap[:, :, 128:] = -32768  # nodata border, as in a mosaic
    _write_tif(folder / 'enmap.tif', enmap, np.linspace(418, 2446, 224), -32768)
    _write_tif(
        folder / 'multispectral.tif',
        _spectra(13, 128, 128, 1),
        np.linspace(443, 2190, 13),
        None,
    )
    _write_tif(
        folder / 'small.tif', _spectra(13, 20, 24, 2), np.linspace(443, 2190, 13), None
    )
    vnir = _spectra(48, 96, 96, 3)
    vnir.astype('<f4').tofile(folder / 'lab.img')
    wl = ', '.join(f'{w:.2f}' for w in np.linspace(400, 1000, 48))
    (folder / 'lab.hdr').write_text(
        'ENVI\nsamples = 96\nlines = 96\nbands = 48\nheader offset = 0\n'
        'file type = ENVI Standard\ndata type = 4\ninterleave = bsq\n'
        f'byte order = 0\nwavelength units = Nanometers\nwavelength = {{{wl}}}\n'
    )


def link_real_cubes(folder: Path) -> bool:
    """Link the real excerpts' spectral cubes into one folder (no copies).

    Returns:
        False when the data folder is absent.
    """
    if not DATA.is_dir():
        return False
    sources = sorted((DATA / 'enmap_potsdam' / 'images').glob('*.tif'))
    for stem in ('ang20160910t185702_2rdn_img', 'ang20170323t202244_rdn_7000-7010'):
        sources += [DATA / 'aviris_ng' / stem, DATA / 'aviris_ng' / f'{stem}.hdr']
    corn = DATA / 'corn_kernel_proximal' / 'corn-kernel-hyperspectral'
    sources += [corn.with_suffix('.raw'), corn.with_suffix('.hdr')]
    for src in sources:
        if src.exists():
            (folder / src.name).symlink_to(src)
    return True


def _batches(
    dm: MixedCubeFolderDataModule, count: int, augment: bool = False
) -> Iterator[dict[str, Any]]:
    """``count`` training batches (epochs repeat), optionally augmented."""
    epoch = 0
    while True:
        loader = dm.train_dataloader()
        sampler = loader.batch_sampler
        if sampler is not None and hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(epoch)
        for batch in loader:
            yield dm.train_aug(batch) if augment and dm.train_aug else batch
            count -= 1
            if count <= 0:
                return
        epoch += 1


def loader_rate(dm: MixedCubeFolderDataModule, count: int, augment: bool) -> float:
    """Batches per second of the loader (and the augmentation)."""
    next(_batches(dm, 1, augment))  # warm-up (first loader, sensor tables)
    start = time.perf_counter()
    n = sum(1 for _ in _batches(dm, count, augment))
    return n / (time.perf_counter() - start)


def mae_step_rate(dm: MixedCubeFolderDataModule, steps: int) -> float:
    """MAE training steps per second of spectral_vit_tiny on the loader's batches."""
    task = SpectralMAETask(model='spectral_vit_tiny', patch_size=8, bands_per_token=8)
    model = task.model
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = list(_batches(dm, steps + 1))
    elapsed = 0.0
    for i, batch in enumerate(batches):
        start = time.perf_counter()
        loss = model(batch['image'], batch['wavelength'][0]).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i > 0:  # the first step warms up
            elapsed += time.perf_counter() - start
    return steps / elapsed


def measure(name: str, folder: Path, args: argparse.Namespace) -> list[str]:
    """Rows of the table for one folder."""
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        cached = MixedCubeFolderDataModule(
            folder, patch_size=args.patch_size, batch_size=args.batch_size, seed=0
        )
        start = time.perf_counter()
        cached.setup('fit')
        setup_s = time.perf_counter() - start
        disk = MixedCubeFolderDataModule(
            folder,
            patch_size=args.patch_size,
            batch_size=args.batch_size,
            seed=0,
            cache=False,
        )
        disk.setup('fit')
    report = cached.report.values()
    patches = sum(r['patches'] for r in report)
    touching = sum(r['touching_nodata'] for r in report)
    bands = ', '.join(str(len(k)) for k in cached.groups)
    step = mae_step_rate(cached, args.steps)
    runs = (
        ('cache', cached, False),
        ('cache + augmentation', cached, True),
        ('disk (no cache)', disk, False),
    )
    for label, dm, augment in runs:
        rate = loader_rate(dm, args.batches, augment)
        rows.append(
            f'| {name} | {label} | {bands} | {patches} ({touching} touch nodata, '
            f'not served) | {setup_s:.1f} | {rate:.1f} | {step:.2f} | '
            f'{rate / step:.0f}x |'
        )
    return rows


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--patch-size', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--batches', type=int, default=30, help='loader batches timed')
    parser.add_argument('--steps', type=int, default=3, help='MAE steps timed')
    args = parser.parse_args()
    torch.manual_seed(0)
    print(
        f'torch threads: {torch.get_num_threads()}, CPUs: {os.cpu_count()}, '
        f'patch {args.patch_size}, batch {args.batch_size}, '
        f'load average {os.getloadavg()[0]:.1f}',
        file=sys.stderr,
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fake = Path(tmp) / 'fake'
        fake.mkdir()
        write_fake_cubes(fake)
        rows += measure('fake (224/48/13 bands)', fake, args)
        real = Path(tmp) / 'real'
        real.mkdir()
        if link_real_cubes(real):
            rows += measure('shared/data (EnMAP, AVIRIS-NG, corn)', real, args)
        else:
            print(f'{DATA} absent: real cubes skipped', file=sys.stderr)
    print(
        '| cubes | loader | band sets | patches | setup s | loader batches/s '
        '| MAE steps/s (spectral_vit_tiny) | ratio |'
    )
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    print('\n'.join(rows))
    print(f'load average at the end: {os.getloadavg()[0]:.1f}', file=sys.stderr)


if __name__ == '__main__':
    main()
