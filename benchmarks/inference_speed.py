"""Tiled inference speed and memory: end-to-end predict_raster vs model-only.

Writes a synthetic 224-band GeoTIFF scene at two sizes (the second with 4x the
area of the first) to a temporary folder, then for each size runs, each in its own
subprocess (so that peak RSS is per run):

* ``model``: the same tiles, read beforehand batch by batch, timing only the
  model's forward passes (same batch size): the ceiling for end-to-end speed;
* ``end2end``: :func:`torchgeo_spectral.inference.predict_raster` writing a class
  map and class probabilities (reading, blending and writing overlap compute).

The two modes alternate (model, end-to-end, model, ...) ``--repeat`` times, so that
load on a shared machine hits both alike; the table gives medians. It prints a
markdown table: tiles/s, pixels/s, the end-to-end/model-only ratio (of the
medians, and the range of the per-repeat ratios), peak RSS, and the CPU time of
the process (all threads) end to end over that of the model-only steps: the
work that reading, blending and writing add, which no overlap can hide when the
cores are busy (as on a shared machine). Default settings
take about 5 minutes on a 2-core CPU::

    python benchmarks/inference_speed.py
    python benchmarks/inference_speed.py --sizes 256 512 --threads 4 --device cuda
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import torch
from rasterio.transform import from_origin
from torch import Tensor, nn

BANDS = 224
CLASSES = 6


def build_model(seed: int = 0) -> nn.Module:
    """A small spectral segmentation model: SpectralViT + dense head.

    Falls back to a 1x1 convolution stack if the model packages are unavailable.
    """
    torch.manual_seed(seed)
    try:
        from torchgeo_spectral.models import SpectralDenseModel, SpectralViT

        backbone = SpectralViT(
            patch_size=8,
            bands_per_token=16,
            embed_dim=64,
            depth=2,
            num_heads=2,
            token_mode='joint',
        )
        return SpectralDenseModel(backbone, CLASSES, hidden=32).eval()
    except ImportError:  # pragma: no cover - before the models landed

        class Fallback(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.net = nn.Sequential(
                    nn.Conv2d(BANDS, 64, 1), nn.ReLU(), nn.Conv2d(64, CLASSES, 1)
                )

            def forward(self, x: Tensor, wavelengths: Tensor) -> Tensor:
                out: Tensor = self.net(x)
                return out

        return Fallback().eval()


def write_scene(path: Path, size: int, seed: int = 0) -> Path:
    """Write a smooth-ish synthetic 224-band float32 scene, strip by strip."""
    rng = np.random.default_rng(seed)
    wavelengths = np.linspace(420.0, 2450.0, BANDS)
    profile = {
        'driver': 'GTiff',
        'height': size,
        'width': size,
        'count': BANDS,
        'dtype': 'float32',
        'crs': 'EPSG:32633',
        'transform': from_origin(360000.0, 5810000.0, 30.0, 30.0),
        'nodata': -32768.0,
        'tiled': True,
        'blockxsize': 256,
        'blockysize': 256,
        'interleave': 'pixel',
    }
    spectra = rng.uniform(0.0, 0.5, size=(CLASSES, BANDS)).astype('float32')
    with rasterio.open(path, 'w', **profile) as dst:
        for row in range(0, size, 256):
            h = min(256, size - row)
            yy, xx = np.mgrid[row : row + h, 0:size]
            label = ((yy // 37 + xx // 53) % CLASSES).astype(int)
            cube = spectra[label].transpose(2, 0, 1)
            cube = cube + rng.normal(0, 0.02, size=cube.shape).astype('float32')
            dst.write(cube, window=rasterio.windows.Window(0, row, size, h))
        for i, wl in enumerate(wavelengths, start=1):
            dst.update_tags(i, wavelength=f'{wl:.2f}', wavelength_units='Nanometers')
    return path


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    from torchgeo_spectral.inference import make_grid, predict_raster
    from torchgeo_spectral.inference.raster import TileReader
    from torchgeo_spectral.wavelengths import read_wavelengths

    torch.set_num_threads(args.threads)
    model = build_model().to(args.device)
    scene = Path(args.scene)
    with rasterio.open(scene) as src:
        height, width, nodata = src.height, src.width, src.nodata
    wl = torch.tensor(read_wavelengths(scene).centres, dtype=torch.float32)
    grid = make_grid(height, width, args.tile_size, args.overlap)
    wl = wl.to(args.device)
    # warm-up (allocator, kernels) on one batch of the real tiles
    reader = TileReader(scene, nodata)
    first = [reader.read(t)[0] for t in grid.tiles[: args.batch_size]]
    with torch.inference_mode():
        model(torch.from_numpy(np.stack(first)).to(args.device), wl)
    del first
    if args.worker == 'model':
        seconds = cpu_seconds = 0.0
        for i in range(0, len(grid), args.batch_size):
            batch = [reader.read(t)[0] for t in grid.tiles[i : i + args.batch_size]]
            x = torch.from_numpy(np.stack(batch)).to(args.device)
            if args.device.startswith('cuda'):
                torch.cuda.synchronize()
            start, cpu_start = time.perf_counter(), time.process_time()
            with torch.inference_mode():
                out = model(x, wl)
            out.cpu()
            seconds += time.perf_counter() - start
            cpu_seconds += time.process_time() - cpu_start
    else:
        out_dir = Path(args.out_dir)
        start, cpu_start = time.perf_counter(), time.process_time()
        predict_raster(
            lambda x, w: model(x, w),
            scene,
            out_dir / f'map_{height}.tif',
            probabilities=out_dir / f'probs_{height}.tif',
            tile_size=args.tile_size,
            overlap=args.overlap,
            batch_size=args.batch_size,
            device=args.device,
            overwrite=True,
            progress=False,
        )
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
    reader.close()
    return {
        'mode': args.worker,
        'size': height,
        'tiles': len(grid),
        'seconds': seconds,
        'cpu_seconds': cpu_seconds,
        'tiles_per_s': len(grid) / seconds,
        'pixels_per_s': height * width / seconds,
        'peak_rss_mb': peak_rss_mb(),
    }


def spawn(mode: str, scene: Path, out_dir: Path, args: argparse.Namespace) -> Any:
    """Run one measurement in a subprocess and parse its JSON line."""
    cmd = [
        sys.executable,
        __file__,
        '--worker',
        mode,
        '--scene',
        str(scene),
        '--out-dir',
        str(out_dir),
        '--tile-size',
        str(args.tile_size),
        '--overlap',
        str(args.overlap),
        '--batch-size',
        str(args.batch_size),
        '--threads',
        str(args.threads),
        '--device',
        args.device,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--sizes',
        type=int,
        nargs=2,
        default=[192, 384],
        help='sides of the two scenes (pixels); the second should be 2x the first',
    )
    parser.add_argument('--tile-size', type=int, default=64)
    parser.add_argument('--overlap', type=int, default=16)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--threads', type=int, default=2, help='torch threads')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--repeat', type=int, default=3, help='runs per mode (median reported)'
    )
    parser.add_argument(
        '--worker', choices=['model', 'end2end'], help=argparse.SUPPRESS
    )
    parser.add_argument('--scene', help=argparse.SUPPRESS)
    parser.add_argument('--out-dir', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args)))
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix='inference-speed-') as tmp:
        tmp_dir = Path(tmp)
        for size in args.sizes:
            scene = write_scene(tmp_dir / f'scene_{size}.tif', size)
            runs: dict[str, list[dict[str, Any]]] = {'model': [], 'end2end': []}
            for _ in range(args.repeat):
                for mode in ('model', 'end2end'):
                    runs[mode].append(spawn(mode, scene, tmp_dir, args))
            results: dict[str, Any] = {}
            for mode, found in runs.items():
                results[mode] = {
                    **found[0],
                    'tiles_per_s': statistics.median(r['tiles_per_s'] for r in found),
                    'pixels_per_s': statistics.median(r['pixels_per_s'] for r in found),
                    'peak_rss_mb': max(r['peak_rss_mb'] for r in found),
                    'cpu_seconds': statistics.median(r['cpu_seconds'] for r in found),
                }
            ratios = [
                e['tiles_per_s'] / m['tiles_per_s']
                for m, e in zip(runs['model'], runs['end2end'], strict=True)
            ]
            results['ratios'] = (min(ratios), max(ratios))
            rows.append(results)
            scene.unlink()

    cpu = platform.processor() or platform.machine()
    print(
        f'\nTiled inference, {BANDS}-band float32 scenes, tile {args.tile_size} px, '
        f'overlap {args.overlap} px, batch {args.batch_size}, {args.threads} torch '
        f'threads, device {args.device} ({cpu}, torch {torch.__version__}), '
        f'medians of {args.repeat} alternating runs\n'
    )
    print(
        '| scene (px) | tiles | model-only tiles/s | end-to-end tiles/s | '
        'end-to-end Mpx/s | end-to-end / model-only | per-run ratios | '
        'peak RSS model-only (MiB) | peak RSS end-to-end (MiB) | '
        'CPU s end-to-end / model-only |'
    )
    print('|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        m, e = r['model'], r['end2end']
        lo, hi = r['ratios']
        print(
            f'| {e["size"]} x {e["size"]} | {e["tiles"]} | {m["tiles_per_s"]:.2f} | '
            f'{e["tiles_per_s"]:.2f} | {e["pixels_per_s"] / 1e6:.3f} | '
            f'{e["tiles_per_s"] / m["tiles_per_s"]:.2f} | {lo:.2f}-{hi:.2f} | '
            f'{m["peak_rss_mb"]:.0f} | {e["peak_rss_mb"]:.0f} | '
            f'{e["cpu_seconds"] / m["cpu_seconds"]:.2f} |'
        )
    small, large = rows[0]['end2end'], rows[-1]['end2end']
    growth = large['peak_rss_mb'] / small['peak_rss_mb'] - 1.0
    area = (large['size'] / small['size']) ** 2
    print(
        f'\nPeak end-to-end RSS grows {growth * 100:+.1f}% from 1x to {area:.0f}x area '
        '(target: within 20%); end-to-end / model-only target: >= 0.8.'
    )


if __name__ == '__main__':
    main()
