#!/usr/bin/env python3
"""Write tiny fake inputs for TorchGeo's ``EnMAP`` and ``HySpecNet11k`` datasets.

TorchGeo's own fake data (its ``tests/data/enmap`` and ``tests/data/hyspecnet``)
is not installed with the package, so these functions write the equivalent: files
named as the real products, with all 224 EnMAP bands, 8 x 8 pixels, uint16
reflectance-like values, georeferenced in UTM 33N. They write into a given folder
(the tests use a temporary one), so nothing binary is kept in the repository.

Run ``python tests/data/torchgeo_enmap/data.py DIR`` to write both into ``DIR``.
"""

import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

#: A product name matching ``torchgeo.datasets.EnMAP.filename_regex``.
PRODUCT = 'ENMAP01-____L2A-DT0000004950_20221103T162438Z_001_V010110_20221118T145147Z'
BANDS = 224
SIZE = 8


def _write_tif(path: Path, seed: int) -> Path:
    """Write one 224-band uint16 GeoTIFF of ``SIZE`` x ``SIZE`` pixels."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 10000, (BANDS, SIZE, SIZE), dtype=np.uint16)
    profile = {
        'driver': 'GTiff',
        'width': SIZE,
        'height': SIZE,
        'count': BANDS,
        'dtype': 'uint16',
        'crs': 'EPSG:32633',
        'transform': from_origin(360000, 5820000, 30, 30),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
    return path


def write_enmap(root: Path) -> Path:
    """Write one EnMAP L2A spectral image into ``root``; returns ``root``."""
    _write_tif(root / f'{PRODUCT}-SPECTRAL_IMAGE.TIF', seed=0)
    return root


def write_hyspecnet(root: Path, patches: int = 4) -> Path:
    """Write a HySpecNet-11k folder (patches and the easy/hard splits) into ``root``.

    Every split lists all patches, as TorchGeo's fake data does.
    """
    base = root / 'hyspecnet-11k'
    names = []
    for i in range(patches):
        patch = f'{PRODUCT}-Y0{i:02d}00000_X0{i:02d}00000'
        _write_tif(
            base / 'patches' / PRODUCT / patch / f'{patch}-SPECTRAL_IMAGE.TIF', i
        )
        names.append(f'{PRODUCT}/{patch}/{patch}-DATA.npy')
    for strategy in ('easy', 'hard'):
        folder = base / 'splits' / strategy
        folder.mkdir(parents=True, exist_ok=True)
        for split in ('train', 'val', 'test'):
            (folder / f'{split}.csv').write_text('\n'.join(names) + '\n')
    return root


if __name__ == '__main__':
    target = Path(sys.argv[1] if len(sys.argv) > 1 else '.')
    write_enmap(target / 'enmap')
    write_hyspecnet(target / 'hyspecnet')
