"""EMIT granules: time and peak memory of reading one and of writing it as a GeoTIFF.

Writes a synthetic EMIT L2A reflectance granule of a real granule's size
(1280 x 1242 px swath, 285 bands, float32, chunked as NASA's files are; about
1.9 GB) laid out as NASA's NetCDF-4 files are (``reflectance``,
``sensor_band_parameters``, ``location/glt_x``/``glt_y``, ``geotransform`` and
``spatial_ref``), its swath rotated by 20 degrees on the lat/lon grid of its
geometry lookup table, then measures in a fresh process each:

* ``read_emit``: the orthorectified cube in memory
  (:func:`~torchgeo_spectral.datasets.read_emit`);
* ``emit-to-geotiff``: the same written as a tiled, compressed GeoTIFF
  (:func:`~torchgeo_spectral.datasets.emit.write_emit_geotiff`).

For each: wall seconds after the imports, the process's peak RSS and its RSS
after the imports (torch and the rest of the stack). Prints a markdown table;
the files are deleted at the end. About 3 minutes on a 2-core CPU::

    python -m benchmarks.emit_io
    python -m benchmarks.emit_io --rows 320 --cols 310  # a quarter granule
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
from rasterio.crs import CRS

#: Swath rows written at once (bounds the memory of writing the granule).
_WRITE_ROWS = 128

#: What each measured step runs in its child process (``{granule}``, ``{out}``).
STEPS = {
    'read_emit': (
        'from torchgeo_spectral.datasets import read_emit\nread_emit({granule!r})'
    ),
    'emit-to-geotiff': (
        'from torchgeo_spectral.datasets.emit import write_emit_geotiff\n'
        'write_emit_geotiff({granule!r}, {out!r})'
    ),
}

_CHILD = """
import json, resource, time
{imports}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
{call}
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{'seconds': seconds, 'before_kib': before, 'peak_kib': peak}}))
"""


def write_granule(
    path: Path, rows: int = 1280, cols: int = 1242, bands: int = 285, seed: int = 0
) -> tuple[int, int]:
    """Write a synthetic EMIT L2A reflectance granule.

    Args:
        path: The ``.nc`` file to write.
        rows: Downtrack pixels of the swath.
        cols: Crosstrack pixels.
        bands: Bands (EMIT has 285, 381-2493 nm).
        seed: Seed of the reflectance values.

    Returns:
        ``(height, width)`` of the GLT's grid.
    """
    rng = np.random.default_rng(seed)
    angle = np.deg2rad(20.0)
    row, col = np.meshgrid(np.arange(rows), np.arange(cols), indexing='ij')
    x = col * np.cos(angle) - row * np.sin(angle)
    y = col * np.sin(angle) + row * np.cos(angle)
    x, y = (x - x.min()).astype(int), (y - y.min()).astype(int)
    glt_x = np.zeros((y.max() + 1, x.max() + 1), dtype=np.int32)
    glt_y = np.zeros_like(glt_x)
    glt_x[y, x], glt_y[y, x] = col + 1, row + 1  # 1-based, 0 = no swath pixel
    wavelengths = np.linspace(381.0, 2493.0, bands)
    # the two water-absorption windows EMIT flags in good_wavelengths
    water = ((wavelengths > 1340) & (wavelengths < 1445)) | (
        (wavelengths > 1790) & (wavelengths < 1955)
    )
    good = (~water).astype(np.uint8)
    with h5py.File(path, 'w') as f:
        cube = f.create_dataset(
            'reflectance',
            (rows, cols, bands),
            dtype='f4',
            chunks=(min(64, rows), min(64, cols), bands),
        )
        for start in range(0, rows, _WRITE_ROWS):
            block = min(_WRITE_ROWS, rows - start)
            cube[start : start + block] = rng.random(
                (block, cols, bands), dtype=np.float32
            )
        cube.attrs['_FillValue'] = np.float32(-9999.0)
        params = f.create_group('sensor_band_parameters')
        params['wavelengths'] = wavelengths.astype(np.float32)
        params['fwhm'] = np.full(bands, 8.5, dtype=np.float32)
        params['good_wavelengths'] = good
        location = f.create_group('location')
        location['glt_x'], location['glt_y'] = glt_x, glt_y
        f.attrs['geotransform'] = np.array([-120.0, 0.000542, 0, 36.0, 0, -0.000542])
        f.attrs['spatial_ref'] = CRS.from_epsg(4326).to_wkt()
    return int(glt_x.shape[0]), int(glt_x.shape[1])


def measure(step: str, granule: Path, out: Path) -> dict[str, float]:
    """Run one step in a fresh Python process.

    Args:
        step: A key of :data:`STEPS`.
        granule: The granule.
        out: The GeoTIFF to write (for ``emit-to-geotiff``).

    Returns:
        ``seconds``, ``before_kib`` and ``peak_kib`` of the child.
    """
    imports, call = STEPS[step].format(granule=str(granule), out=str(out)).split('\n')
    code = _CHILD.format(imports=imports, call=call)
    result = subprocess.run(
        [sys.executable, '-c', code], check=True, capture_output=True, text=True
    )
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def table(
    results: dict[str, dict[str, float]], size: tuple[int, int, int, int, int]
) -> str:
    """The markdown table of the measured steps.

    Args:
        results: :func:`measure`'s figures by step.
        size: ``(rows, cols, bands, grid height, grid width)``.

    Returns:
        The table with a one-line caption.
    """
    rows, cols, bands, height, width = size
    caption = (
        f'EMIT stand-in: {rows} x {cols} px swath, {bands} bands, on a '
        f'{height} x {width} px grid'
    )
    lines = [
        caption,
        '',
        '| Step | Seconds | Peak RSS (GiB) | RSS after imports (GiB) |',
        '|---|---|---|---|',
    ]
    for step, figures in results.items():
        peak, before = figures['peak_kib'] / 2**20, figures['before_kib'] / 2**20
        lines.append(
            f'| {step} | {figures["seconds"]:.1f} | {peak:.2f} | {before:.2f} |'
        )
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> None:
    """Write the stand-in, measure each step and print the table.

    Args:
        argv: Command-line arguments; ``sys.argv[1:]`` when None.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rows', type=int, default=1280)
    parser.add_argument('--cols', type=int, default=1242)
    parser.add_argument('--bands', type=int, default=285)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        granule = Path(folder) / 'EMIT_L2A_RFL_001_stand_in.nc'
        height, width = write_granule(granule, args.rows, args.cols, args.bands)
        out = Path(folder) / 'emit.tif'
        results = {step: measure(step, granule, out) for step in STEPS}
    print(table(results, (args.rows, args.cols, args.bands, height, width)))


if __name__ == '__main__':
    main()
