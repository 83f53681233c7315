#!/usr/bin/env python3
"""I/O benchmark: random windowed reads through HyperspectralRaster vs raw rasterio.

Writes synthetic 224-band georeferenced rasters (int16, like EnMAP L2A x 10^4)
to a temporary folder -- a tiled GeoTIFF, an ENVI BSQ and an ENVI BIL cube --
and deletes them at the end. For each format it measures, in one run:

* throughput: random ``patch`` x ``patch`` windows read through the dataset with
  TorchGeo's ``RandomPatchSampler`` (float32 sample dicts with ``wavelength``),
  and through raw ``rasterio`` window reads at random positions of an open
  file (native dtype); median patches/s over ``--repeats`` and their ratio;
* peak memory: the peak RSS of a fresh subprocess that draws the same number of
  random patches through the dataset from scenes of 1x and 4x the area (GDAL's
  block cache capped with ``GDAL_CACHEMAX``, so the number reflects the
  dataset, not GDAL's cache), and how much of it came after the imports and
  the dataset construction ("reading +MiB").

Prints a markdown table. Default run: < 5 min on a 2-core CPU.

    python benchmarks/io_speed.py
    python benchmarks/io_speed.py --size 256 --patches 50 --repeats 2  # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

BANDS = 224
FORMATS = ('gtiff', 'envi-bsq', 'envi-bil')
WAVELENGTHS = np.linspace(420.0, 2450.0, BANDS)


def write_scene(folder: Path, fmt: str, size: int) -> Path:
    """Write a synthetic size x size x 224 int16 scene; return the file to open."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = np.arange(size, dtype=np.int32)[:, None]
    cols = np.arange(size, dtype=np.int32)[None, :]
    transform = from_origin(500000.0, 5800000.0, 30.0, 30.0)
    if fmt == 'gtiff':
        path = folder / f'scene_{size}.tif'
        profile = {
            'driver': 'GTiff',
            'height': size,
            'width': size,
            'count': BANDS,
            'dtype': 'int16',
            'crs': 'EPSG:32633',
            'transform': transform,
            'tiled': True,
            'blockxsize': 256,
            'blockysize': 256,
            'interleave': 'pixel',
            'nodata': -32768,
        }
        with rasterio.open(path, 'w', **profile) as dst:
            for b in range(BANDS):
                dst.write(((rows + cols + 7 * b) % 10000).astype(np.int16), b + 1)
                dst.update_tags(b + 1, wavelength=f'{WAVELENGTHS[b]:.3f}')
        return path
    interleave = fmt.split('-')[1]
    path = folder / f'scene_{size}_{interleave}.img'
    with path.open('wb') as f:
        if interleave == 'bsq':
            for b in range(BANDS):
                f.write(((rows + cols + 7 * b) % 10000).astype('<i2').tobytes())
        else:  # bil: for each line, every band
            bands = np.arange(BANDS, dtype=np.int32)[:, None]
            for r in range(size):
                f.write(((r + cols + 7 * bands) % 10000).astype('<i2').tobytes())
    header = [
        'ENVI',
        f'samples = {size}',
        f'lines = {size}',
        f'bands = {BANDS}',
        'header offset = 0',
        'file type = ENVI Standard',
        'data type = 2',
        f'interleave = {interleave}',
        'byte order = 0',
        'map info = { UTM , 1 , 1 , 500000 , 5800000 , 30 , 30 , 33 , North , WGS-84 }',
        'data ignore value = -32768',
        'wavelength units = Nanometers',
        'wavelength = {' + ', '.join(f'{w:.3f}' for w in WAVELENGTHS) + '}',
    ]
    path.with_suffix('.hdr').write_text('\n'.join(header) + '\n')
    return path


def read_raw(path: Path, patches: int, patch: int, seed: int) -> float:
    """Patches/s of raw rasterio window reads at random positions."""
    rng = np.random.default_rng(seed)
    with rasterio.open(path) as src:
        rows = rng.integers(0, src.height - patch + 1, patches)
        cols = rng.integers(0, src.width - patch + 1, patches)
        start = time.perf_counter()
        for r, c in zip(rows, cols):
            src.read(window=Window(int(c), int(r), patch, patch))
        return patches / (time.perf_counter() - start)


def make_dataset(
    path: Path, patches: int, patch: int, seed: int
) -> tuple[object, object]:
    """The dataset and a random patch sampler over it."""
    from torchgeo.samplers import RandomPatchSampler

    from torchgeo_spectral.datasets import HyperspectralRaster

    dataset = HyperspectralRaster(path)
    sampler = RandomPatchSampler(dataset, size=patch, length=patches, generator=seed)
    return dataset, sampler


def read_dataset(path: Path, patches: int, patch: int, seed: int) -> float:
    """Patches/s through HyperspectralRaster with RandomPatchSampler."""
    dataset, sampler = make_dataset(path, patches, patch, seed)
    start = time.perf_counter()
    for query in sampler:  # type: ignore[attr-defined]
        sample = dataset[query]  # type: ignore[index]
        assert sample['image'].shape[-1] == patch
    return patches / (time.perf_counter() - start)


def peak_rss_mib() -> float:
    """Peak resident set size of this process image (VmHWM), in MiB.

    ``getrusage``'s ``ru_maxrss`` would include the parent's peak before exec.
    """
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_case(path: Path, patches: int, patch: int) -> None:
    """Subprocess body: draw patches, print baseline and peak RSS (MiB) as JSON."""
    dataset, sampler = make_dataset(path, patches, patch, 0)
    baseline = peak_rss_mib()
    for query in sampler:  # type: ignore[attr-defined]
        dataset[query]  # type: ignore[index]
    peak = peak_rss_mib()
    print(json.dumps({'baseline_mib': baseline, 'peak_mib': peak}))


def measure_memory(
    path: Path, patches: int, patch: int, cache_mb: int
) -> dict[str, float]:
    """Run memory_case in a fresh subprocess."""
    env = dict(os.environ, GDAL_CACHEMAX=str(cache_mb), OMP_NUM_THREADS='1')
    cmd = [
        sys.executable,
        __file__,
        '--memory-case',
        str(path),
        '--patches',
        str(patches),
        '--patch',
        str(patch),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        '--size',
        type=int,
        default=512,
        help='side (px) of the 1x scene; the 4x scene has twice the side',
    )
    parser.add_argument('--patch', type=int, default=64, help='patch side in pixels')
    parser.add_argument(
        '--patches', type=int, default=100, help='random patches per measurement'
    )
    parser.add_argument(
        '--repeats', type=int, default=3, help='throughput repeats (median reported)'
    )
    parser.add_argument(
        '--formats',
        default=','.join(FORMATS),
        help=f'comma-separated subset of {FORMATS}',
    )
    parser.add_argument(
        '--cache-mb',
        type=int,
        default=64,
        help='GDAL_CACHEMAX (MiB) in the memory subprocesses',
    )
    parser.add_argument(
        '--memory-formats',
        default='gtiff',
        help='formats whose peak memory is measured (comma-separated; "" for none)',
    )
    parser.add_argument(
        '--workdir', type=Path, default=None, help='folder for the temporary rasters'
    )
    parser.add_argument(
        '--memory-case', type=Path, default=None, help=argparse.SUPPRESS
    )
    args = parser.parse_args()

    if args.memory_case is not None:
        memory_case(args.memory_case, args.patches, args.patch)
        return

    formats = [f for f in args.formats.split(',') if f]
    memory_formats = {f for f in args.memory_formats.split(',') if f}
    unknown = set(formats) - set(FORMATS)
    if unknown:
        parser.error(f'unknown formats {sorted(unknown)}; choose from {FORMATS}')
    tmp = Path(tempfile.mkdtemp(prefix='io_speed_', dir=args.workdir))
    rows = []
    started = time.perf_counter()
    try:
        for fmt in formats:
            small = write_scene(tmp / fmt, fmt, args.size)
            # warm the page cache and import everything once
            read_raw(small, args.patches, args.patch, seed=99)
            read_dataset(small, 5, args.patch, seed=99)
            raw, ds = [], []
            for repeat in range(args.repeats):
                raw.append(read_raw(small, args.patches, args.patch, seed=repeat))
                ds.append(read_dataset(small, args.patches, args.patch, seed=repeat))
            row = {
                'format': fmt,
                'raw': statistics.median(raw),
                'dataset': statistics.median(ds),
            }
            if fmt in memory_formats:
                large = write_scene(tmp / fmt, fmt, 2 * args.size)
                row['mem1'] = measure_memory(
                    small, args.patches, args.patch, args.cache_mb
                )
                row['mem4'] = measure_memory(
                    large, args.patches, args.patch, args.cache_mb
                )
                large.unlink()
            rows.append(row)
            shutil.rmtree(tmp / fmt)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f'\nRandom {args.patch}x{args.patch} windows of a {BANDS}-band int16 scene '
        f'({args.size}x{args.size} px; 4x = {2 * args.size}x{2 * args.size} px), '
        f'{args.patches} patches, median of {args.repeats}; peak RSS of a fresh '
        f'process (GDAL_CACHEMAX={args.cache_mb} MiB).\n'
    )
    header = '| format | raw rasterio (patches/s) | HyperspectralRaster (patches/s) | ratio |'
    sep = '| --- | ---: | ---: | ---: |'
    if memory_formats:
        header += (
            ' peak RSS 1x (MiB) | peak RSS 4x (MiB) | 4x / 1x | reading +MiB 1x / 4x |'
        )
        sep += ' ---: | ---: | ---: | ---: |'
    print(header)
    print(sep)
    for row in rows:
        line = (
            f'| {row["format"]} | {row["raw"]:.1f} | {row["dataset"]:.1f} | '
            f'{row["dataset"] / row["raw"]:.2f} |'
        )
        if 'mem1' in row:
            m1 = row['mem1']['peak_mib']
            m4 = row['mem4']['peak_mib']
            d1 = m1 - row['mem1']['baseline_mib']
            d4 = m4 - row['mem4']['baseline_mib']
            line += f' {m1:.0f} | {m4:.0f} | {m4 / m1:.2f} | {d1:.0f} / {d4:.0f} |'
        elif memory_formats:
            line += ' - | - | - | - |'
        print(line)
    print(
        f'\nTargets: ratio >= 0.8; peak RSS 4x / 1x <= 1.2. Total time {time.perf_counter() - started:.0f} s.'
    )


if __name__ == '__main__':
    main()
