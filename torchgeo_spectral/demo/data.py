"""Datasets and a data module over the synthetic demo scene."""

import abc
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torchgeo.datamodules import NonGeoDataModule
from torchgeo.datasets import NonGeoDataset
from torchgeo.datasets.utils import Sample

from .scene import SyntheticScene, generate_scene, read_scene, write_scene


def demo_wavelengths(
    num_bands: int = 60,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """EnMAP band centres and widths, evenly subsampled.

    Args:
        num_bands: Number of bands to keep (at most the 224 EnMAP bands).

    Returns:
        Centres and FWHM in nm, shape (num_bands,).
    """
    from torchgeo_spectral.sensors import get_sensor

    sensor = get_sensor('enmap')
    count = min(num_bands, sensor.num_bands)
    index = np.unique(np.linspace(0, sensor.num_bands - 1, count).round().astype(int))
    return np.asarray(sensor.wavelengths)[index], np.asarray(sensor.fwhm)[index]


def load_or_create_scene(
    root: str | Path, size: int = 128, num_bands: int = 60, seed: int = 0
) -> SyntheticScene:
    """Read the demo scene from ``root``, generating and writing it when absent.

    Args:
        root: Folder of ``scene.tif`` and ``labels.tif``.
        size: Scene height and width in pixels (when generating).
        num_bands: Number of EnMAP bands (when generating).
        seed: Random seed (when generating).

    Returns:
        The scene.
    """
    folder = Path(root)
    if not (folder / 'scene.tif').is_file():
        wavelengths, fwhm = demo_wavelengths(num_bands)
        write_scene(generate_scene(wavelengths, fwhm, size=size, seed=seed), folder)
    return read_scene(folder)


class _SceneWindows(NonGeoDataset):
    """Square windows of a scene's image: what chips and pixel patches share.

    Subclasses add the target of a window (a mask or the centre label).
    """

    def __init__(
        self,
        scene: SyntheticScene,
        image: NDArray[np.floating],
        corners: Sequence[tuple[int, int]] | NDArray[np.integer],
        size: int,
    ) -> None:
        """Initialise the windows.

        Args:
            scene: The scene (labels and wavelengths).
            image: The image the windows are cut from, ``(C, H, W)``.
            corners: Upper-left (row, col) of every window in ``image``.
            size: Window height and width.
        """
        self.image = torch.from_numpy(np.ascontiguousarray(image))
        self.labels = torch.from_numpy(scene.labels.astype(np.int64))
        self.wavelength = torch.from_numpy(scene.wavelengths)
        self.corners = np.asarray(corners, dtype=np.int64).reshape(-1, 2)
        self.size = size

    def __len__(self) -> int:
        """Number of windows."""
        return len(self.corners)

    def __getitem__(self, index: int) -> Sample:
        """One window with its target.

        Args:
            index: Window index.

        Returns:
            ``{'image', 'wavelength'}`` and the target of :meth:`_target`.
        """
        row, col = (int(v) for v in self.corners[index])
        image = self.image[:, row : row + self.size, col : col + self.size].clone()
        return {
            'image': image,
            'wavelength': self.wavelength.clone(),
            **self._target(row, col),
        }

    @abc.abstractmethod
    def _target(self, row: int, col: int) -> Sample:
        """The target of the window whose upper-left corner is ``(row, col)``.

        Args:
            row: Upper-left row of the window in :attr:`image`.
            col: Upper-left column.

        Returns:
            The target entries of the sample.
        """


class SceneChips(_SceneWindows):
    """Square chips of a scene, with their label masks.

    Samples are ``{'image': (C, s, s), 'wavelength': (C,), 'mask': (s, s)}``.
    """

    def __init__(
        self, scene: SyntheticScene, corners: Sequence[tuple[int, int]], size: int
    ) -> None:
        """Initialise the dataset.

        Args:
            scene: The scene.
            corners: Upper-left (row, col) of every chip.
            size: Chip height and width.
        """
        super().__init__(scene, scene.image, corners, size)

    def _target(self, row: int, col: int) -> Sample:
        """The chip's label mask.

        Args:
            row: Upper-left row of the chip.
            col: Upper-left column.

        Returns:
            ``{'mask': (s, s)}``.
        """
        return {
            'mask': self.labels[row : row + self.size, col : col + self.size].clone()
        }


class PixelPatches(_SceneWindows):
    """Patches centred on chosen pixels, labelled with the centre pixel's class.

    Samples are ``{'image': (C, s, s), 'wavelength': (C,), 'label': ()}``; the
    scene is reflect-padded so that border pixels get full patches.
    """

    def __init__(
        self, scene: SyntheticScene, pixels: NDArray[np.integer], size: int
    ) -> None:
        """Initialise the dataset.

        Args:
            scene: The scene.
            pixels: (N, 2) array of (row, col) centres.
            size: Patch height and width (even sizes put the centre at
                ``size // 2``).
        """
        half = size // 2
        padded = np.pad(
            scene.image, ((0, 0), (half, size - half), (half, size - half)), 'reflect'
        )
        # Pixel (row, col) of the scene is at (row + half, col + half) of the
        # padded image, so the window with upper-left (row, col) is centred on it.
        super().__init__(scene, padded, pixels, size)

    def _target(self, row: int, col: int) -> Sample:
        """The class of the patch's centre pixel.

        Args:
            row: Row of the centre pixel in the scene (the patch's upper-left
                row in the padded image).
            col: Its column.

        Returns:
            ``{'label': ()}``.
        """
        return {'label': self.labels[row, col].clone()}


def random_corners(
    scene_size: int, chip: int, count: int, seed: int
) -> list[tuple[int, int]]:
    """Random upper-left corners of chips inside the scene.

    Args:
        scene_size: Scene height and width.
        chip: Chip size.
        count: Number of chips.
        seed: Random seed.

    Returns:
        ``count`` (row, col) corners.
    """
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, scene_size - chip + 1, size=(count, 2))
    return [(int(r), int(c)) for r, c in corners]


def grid_corners(scene_size: int, chip: int) -> list[tuple[int, int]]:
    """Corners of the non-overlapping chip grid covering the scene.

    Args:
        scene_size: Scene height and width.
        chip: Chip size.

    Returns:
        (row, col) corners.
    """
    steps = range(0, scene_size - chip + 1, chip)
    return [(r, c) for r in steps for c in steps]


class SyntheticSceneDataModule(NonGeoDataModule):
    """Chips of the synthetic demo scene, for pretraining from a config.

    The scene (``scene.tif``, ``labels.tif``) is generated into ``root`` on first
    use (no download). Training batches are random chips, validation and test
    batches the chip grid. Every sample carries ``wavelength``.
    """

    def __init__(
        self,
        root: str = 'data/demo_scene',
        batch_size: int = 32,
        num_workers: int = 0,
        size: int = 128,
        num_bands: int = 60,
        seed: int = 0,
        chip_size: int = 16,
        num_chips: int = 256,
    ) -> None:
        """Initialise the data module.

        Args:
            root: Scene folder (generated when missing).
            batch_size: Batch size.
            num_workers: Data loader workers.
            size: Scene size in pixels.
            num_bands: Number of EnMAP bands.
            seed: Scene and chip seed.
            chip_size: Chip size in pixels.
            num_chips: Number of random training chips per epoch.
        """
        super().__init__(SceneChips, batch_size, num_workers)
        self.root = root
        self.size = size
        self.num_bands = num_bands
        self.seed = seed
        self.chip_size = chip_size
        self.num_chips = num_chips
        # The scene is already reflectance in [0, 1]: no normalization.
        self.aug = nn.Identity()

    def _scene(self) -> SyntheticScene:
        """Read the scene, generating it when absent.

        Returns:
            The scene.
        """
        return load_or_create_scene(self.root, self.size, self.num_bands, self.seed)

    def prepare_data(self) -> None:
        """Generate the scene once (rank zero) before the datasets read it."""
        self._scene()

    def setup(self, stage: str) -> None:
        """Cut the chips: random ones for training, the grid for val and test.

        Args:
            stage: ``'fit'``, ``'validate'``, ``'test'`` or ``'predict'``.
        """
        scene = self._scene()
        scene_size, chip = scene.image.shape[-1], self.chip_size
        corners = random_corners(scene_size, chip, self.num_chips, self.seed + 1)
        self.train_dataset = SceneChips(scene, corners, chip)
        grid = SceneChips(scene, grid_corners(scene_size, chip), chip)
        self.val_dataset = self.test_dataset = grid


__all__ = [
    'PixelPatches',
    'SceneChips',
    'SyntheticSceneDataModule',
    'demo_wavelengths',
    'grid_corners',
    'load_or_create_scene',
    'random_corners',
]
