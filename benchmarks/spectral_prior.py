"""Does a scene reward knowing a low-dimensional spectral subspace, and which one?

A diagnostic of what few-label pretraining could gain on the benchmark scenes,
without a network: logistic regression with the demo's split and labels
(:class:`~torchgeo_spectral.demo.pipeline.DemoConfig` defaults: each pixel's own
spectrum, scene-scaled, 10 labels per class, spatially disjoint 16-px blocks) on

* ``raw``: the pixel spectra;
* ``scene PCA k``: their projection on the top ``k`` principal components of
  every valid pixel of the scene (the scene's own unlabelled pixels);
* ``library PCA k``: their projection on the top ``k`` principal components of
  the earthlib spectral library (the library part of the foundation pretraining
  corpus, :func:`~torchgeo_spectral.datasets.load_spectral_library`) resampled to
  the scene's bands with :func:`~torchgeo_spectral.sensors.resample_spectra`.

If a subspace row beats ``raw``, an encoder that had learned that subspace would
help with few labels there; if it does not, that prior is no use on that scene.
It prints the mean OA per row and the paired difference to ``raw`` (OA points)
with its 95 % bootstrap CI over label seeds::

    python -m benchmarks.spectral_prior
    python -m benchmarks.spectral_prior --scenes demo --seeds 0 1 2 3 4

Seconds per seed on a CPU (the EnMAP scene needs ``../shared/data``).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.decomposition import PCA

from benchmarks.accuracy.baselines import fit_probe
from benchmarks.accuracy.config import BenchConfig
from benchmarks.accuracy.metrics import format_paired
from benchmarks.recipe_option import DEFAULT_SCENES, SCENES, write_scenes
from torchgeo_spectral.datasets.library import load_spectral_library
from torchgeo_spectral.demo.pipeline import DemoConfig, scene_datamodule
from torchgeo_spectral.sensors import resample_spectra

FloatArray = npt.NDArray[np.float64]

#: Principal components kept by the subspace rows.
COMPONENTS = (8, 16, 32)


def library_spectra(wavelengths: FloatArray) -> FloatArray:
    """The earthlib library resampled to a scene's bands.

    The scene's band widths are taken as its band spacing (the scenes carry
    centres only); the library's are its own (:attr:`SpectralLibrary.fwhm`).

    Args:
        wavelengths: The scene's band centres (nm), ascending.

    Returns:
        ``(spectra, bands)`` reflectance.
    """
    library = load_spectral_library()
    spectra: FloatArray = resample_spectra(
        library.spectra.astype(np.float64),
        library.wavelengths,
        library.fwhm,
        wavelengths,
        np.gradient(wavelengths),
        dim=-1,
    )
    return spectra


def accuracy(
    train: FloatArray,
    train_labels: npt.NDArray[np.int64],
    test: FloatArray,
    test_labels: npt.NDArray[np.int64],
) -> float:
    """Test OA (%) of the accuracy benchmark's linear probe (standardized features).

    Args:
        train: Training features.
        train_labels: Their classes.
        test: Test features.
        test_labels: Their classes.

    Returns:
        Overall accuracy in percent.
    """
    probe = fit_probe(train, train_labels, BenchConfig())
    return 100 * float((probe.predict(test) == test_labels).mean())


def scene_accuracies(files: dict[str, Any], seed: int) -> dict[str, float]:
    """OA of every row on one scene for one label seed.

    Args:
        files: ``SceneDataModule`` file arguments of the scene.
        seed: Split and label seed.

    Returns:
        OA (%) by row name.
    """
    datamodule = scene_datamodule(
        replace(DemoConfig(), seed=seed), patch_size=1, **files
    )
    datamodule.setup('fit')
    scene, split = datamodule.scene, datamodule.split
    assert scene is not None
    assert split is not None
    pixels = scene.image.reshape(scene.image.shape[0], -1).T.astype(np.float64)
    classes = scene.gt.reshape(-1)
    train, test = split.flat_indices('train'), split.flat_indices('test')
    valid = np.abs(pixels).sum(1) > 0  # nodata became 0 in the normalization
    sources = {
        'scene PCA': pixels[valid],
        'library PCA': library_spectra(scene.wavelengths.numpy().astype(np.float64)),
    }
    rows = {'raw': accuracy(pixels[train], classes[train], pixels[test], classes[test])}
    for name, source in sources.items():
        for k in COMPONENTS:
            projected = PCA(k, random_state=0).fit(source).transform(pixels)
            rows[f'{name} {k}'] = accuracy(
                projected[train], classes[train], projected[test], classes[test]
            )
    return rows


def report(results: dict[str, list[dict[str, float]]]) -> str:
    """The table: mean OA and paired difference to ``raw`` per scene and row.

    Args:
        results: Per scene, one dict of row OAs per seed.

    Returns:
        Markdown table.
    """
    lines = [
        '| Scene | Features | Seeds | OA | minus raw (95 % CI) |',
        '|---|---|---|---|---|',
    ]
    for scene, per_seed in results.items():
        raw = np.array([r['raw'] for r in per_seed])
        for row in per_seed[0]:
            oa = np.array([r[row] for r in per_seed])
            diff = '-' if row == 'raw' else format_paired(oa - raw)
            lines.append(f'| {scene} | {row} | {len(oa)} | {oa.mean():.1f} | {diff} |')
    return '\n'.join(lines)


def main() -> None:
    """Run every scene and seed and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--scenes', nargs='+', choices=SCENES, default=list(DEFAULT_SCENES)
    )
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scenes = write_scenes(args.scenes, Path(folder))
        results = {
            name: [scene_accuracies(files, seed) for seed in args.seeds]
            for name, files in scenes.items()
        }
    print(report(results))


if __name__ == '__main__':
    main()
