"""Shared vs wavelength-generated patch projection: a tiny cross-sensor probe.

For each projection (``SpectralViT(projection='shared' | 'wavelength')``) and seed,
a tiny SpectralViT MAE is pretrained for ``--steps`` steps on random 8 x 8 crops of
the EnMAP excerpt (``../shared/data/enmap_potsdam``, bad bands dropped, one global
reflectance scaling that keeps spectral shape and level). Per-pixel features come
from ``forward_feature_map`` (8 x 8 windows, nearest upsampling of the patch
map). A logistic-regression probe is trained on ``--labels`` labelled pixels per
class and tested on all other labelled pixels:

* ``enmap``: probe trained and tested on EnMAP features,
* ``<sensor> refit``: the cube resampled to another sensor's bands
  (:func:`~torchgeo_spectral.sensors.resample_spectra`, Gaussian SRFs), the same
  encoder fed that sensor's wavelengths and FWHM, probe refitted,
* ``<sensor> no-refit``: the EnMAP-trained probe applied to the resampled
  sensor's features (the cross-sensor row: only wavelength-defined tokens can
  make the features agree).

``--steps 0`` rows are the randomly initialised encoders. Prints a markdown table
of the mean and standard deviation of the overall accuracy (%) over seeds::

    python benchmarks/projection_transfer.py --threads 1 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import rasterio
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from torch import Tensor

from torchgeo_spectral.models import SpectralMAE, SpectralViT
from torchgeo_spectral.sensors import get_sensor, resample_spectra

DATA = Path(os.environ.get('TORCHGEO_SPECTRAL_DATA', '../shared/data'))
WINDOW = 8


def load_enmap(root: Path) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray]:
    """Tiles (T, C, 32, 32) in scaled reflectance, labels, wavelengths, fwhm."""
    cubes, labels = [], []
    wl = fwhm = good = None
    for image in sorted((root / 'images').glob('*.tif')):
        with rasterio.open(image) as src:
            data = src.read().astype(np.float32)
            if wl is None:
                tags = [src.tags(i + 1) for i in range(src.count)]
                wl = np.array([float(t['wavelength']) for t in tags])
                fwhm = np.array([float(t['fwhm']) for t in tags])
                good = np.array([t.get('bbl', '1') == '1' for t in tags])
            nodata = src.nodata
        with rasterio.open(root / 'labels' / image.name) as src:
            label = src.read(1).astype(np.int64)
        assert good is not None
        bad_pixel = (data[good] == nodata).any(axis=0)  # bad bands are all nodata
        label[bad_pixel] = 0
        data[:, bad_pixel] = 0.0
        cubes.append(data[good])
        labels.append(label)
    assert wl is not None
    assert fwhm is not None
    assert good is not None
    wl, fwhm = wl[good], fwhm[good]
    # EnMAP's VNIR and SWIR overlap: sort by wavelength, keep strictly increasing.
    order = np.argsort(wl, kind='stable')
    keep = order[np.concatenate([[True], np.diff(wl[order]) > 0])]
    x = torch.from_numpy(np.stack(cubes)[:, keep]) / 10000.0  # reflectance
    return x, torch.from_numpy(np.stack(labels)), wl[keep], fwhm[keep]


def scale(x: Tensor) -> Tensor:
    """One global affine map of reflectance (keeps spectral shape and level)."""
    return (x - 0.12) / 0.1


def build(projection: str, seed: int) -> SpectralMAE:
    torch.manual_seed(seed)
    encoder = SpectralViT(
        embed_dim=64,
        depth=2,
        num_heads=4,
        patch_size=2,
        bands_per_token=16,
        projection=projection,  # type: ignore[arg-type]
    )
    return SpectralMAE(
        encoder, decoder_embed_dim=64, decoder_depth=1, decoder_num_heads=4
    )


def pretrain(
    mae: SpectralMAE, x: Tensor, wl: Tensor, fwhm: Tensor, steps: int, seed: int
) -> None:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(mae.parameters(), lr=1e-3, weight_decay=0.05)
    tiles, _, height, width = x.shape
    for _ in range(steps):
        t = torch.randint(tiles, (16,), generator=gen)
        r = torch.randint(height - WINDOW + 1, (16,), generator=gen)
        c = torch.randint(width - WINDOW + 1, (16,), generator=gen)
        batch = torch.stack(
            [
                x[ti, :, ri : ri + WINDOW, ci : ci + WINDOW]
                for ti, ri, ci in zip(t.tolist(), r.tolist(), c.tolist())
            ]
        )
        loss = mae(batch, wl, generator=gen, fwhm=fwhm).loss
        opt.zero_grad()
        loss.backward()
        opt.step()


@torch.no_grad()
def pixel_features(encoder: SpectralViT, x: Tensor, wl: Tensor, fwhm: Tensor) -> Tensor:
    """(T, D, H, W) features: 8 x 8 windows, patch map upsampled to pixels."""
    encoder.eval()
    tiles, bands, height, width = x.shape
    windows = (
        x.unfold(2, WINDOW, WINDOW)
        .unfold(3, WINDOW, WINDOW)
        .permute(0, 2, 3, 1, 4, 5)
        .reshape(-1, bands, WINDOW, WINDOW)
    )
    fmap = encoder.forward_feature_map(windows, wl, fwhm)
    fmap = F.interpolate(fmap, size=(WINDOW, WINDOW), mode='nearest')
    dim = fmap.shape[1]
    rows, cols = height // WINDOW, width // WINDOW
    fmap = fmap.reshape(tiles, rows, cols, dim, WINDOW, WINDOW)
    return fmap.permute(0, 3, 1, 4, 2, 5).reshape(tiles, dim, height, width)


def split(labels: Tensor, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flat = labels.flatten().numpy()
    train = []
    for cls in np.unique(flat[flat > 0]):
        idx = np.flatnonzero(flat == cls)
        train.extend(rng.choice(idx, min(per_class, len(idx) // 2), replace=False))
    train_idx = np.array(sorted(train))
    test_idx = np.setdiff1d(np.flatnonzero(flat > 0), train_idx)
    return train_idx, test_idx


def flat_features(feats: Tensor) -> np.ndarray:
    return feats.permute(0, 2, 3, 1).reshape(-1, feats.shape[1]).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=400)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--labels', type=int, default=20, help='labels per class')
    parser.add_argument('--sensors', nargs='+', default=['desis', 'prisma', 'hyperion'])
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root = DATA / 'enmap_potsdam'
    if not root.is_dir():
        raise SystemExit(
            f'EnMAP excerpt not found at {root} (set TORCHGEO_SPECTRAL_DATA)'
        )
    reflectance, labels, wl_np, fwhm_np = load_enmap(root)
    x = scale(reflectance)
    wl, fwhm = torch.tensor(wl_np).float(), torch.tensor(fwhm_np).float()
    targets: dict[str, tuple[Tensor, Tensor, Tensor]] = {}
    for name in args.sensors:
        sensor = get_sensor(name)
        sw = np.asarray(sensor.wavelengths, dtype=np.float64)
        sf = np.asarray(sensor.fwhm, dtype=np.float64)
        inside = (sw - sf >= wl_np.min()) & (sw + sf <= wl_np.max())
        cube = resample_spectra(reflectance, wl_np, fwhm_np, sw[inside], sf[inside])
        assert isinstance(cube, Tensor)
        targets[name] = (
            scale(cube.float()),
            torch.tensor(sw[inside]).float(),
            torch.tensor(sf[inside]).float(),
        )
    results: dict[tuple[str, int, str], list[float]] = {}
    start = time.perf_counter()
    for projection in ('shared', 'wavelength'):
        for seed in args.seeds:
            mae = build(projection, seed)
            for steps in (0, args.steps):
                if steps:
                    pretrain(mae, x, wl, fwhm, steps, seed)
                feats = flat_features(pixel_features(mae.encoder, x, wl, fwhm))
                flat_labels = labels.flatten().numpy()
                train_idx, test_idx = split(labels, args.labels, seed)
                scaler = StandardScaler().fit(feats[train_idx])
                probe = LogisticRegression(max_iter=2000).fit(
                    scaler.transform(feats[train_idx]), flat_labels[train_idx]
                )

                def oa(
                    features: np.ndarray,
                    model: LogisticRegression,
                    scaler: StandardScaler = scaler,
                    test_idx: np.ndarray = test_idx,
                    flat_labels: np.ndarray = flat_labels,
                ) -> float:
                    pred = model.predict(scaler.transform(features[test_idx]))
                    return float(100 * (pred == flat_labels[test_idx]).mean())

                key = (projection, steps)
                results.setdefault((*key, 'enmap'), []).append(oa(feats, probe))
                for name, (cube, sw_t, sf_t) in targets.items():
                    tf = flat_features(pixel_features(mae.encoder, cube, sw_t, sf_t))
                    results.setdefault((*key, f'{name} no-refit'), []).append(
                        oa(tf, probe)
                    )
                    t_scaler = StandardScaler().fit(tf[train_idx])
                    refit = LogisticRegression(max_iter=2000).fit(
                        t_scaler.transform(tf[train_idx]), flat_labels[train_idx]
                    )
                    pred = refit.predict(t_scaler.transform(tf[test_idx]))
                    results.setdefault((*key, f'{name} refit'), []).append(
                        float(100 * (pred == flat_labels[test_idx]).mean())
                    )
            print(
                f'# {projection} seed {seed} done ({time.perf_counter() - start:.0f} s)',
                flush=True,
            )
    print(
        f'\nEnMAP excerpt, {args.labels} labels per class, {args.steps} MAE steps, '
        f'seeds {args.seeds}; OA % mean +- std over seeds\n'
    )
    print('| projection | MAE steps | row | OA |')
    print('|---|---|---|---|')
    for (projection, steps, row), values in results.items():
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(
            f'| {projection} | {steps} | {row} | '
            f'{statistics.mean(values):.1f} +- {spread:.1f} |'
        )


if __name__ == '__main__':
    main()
