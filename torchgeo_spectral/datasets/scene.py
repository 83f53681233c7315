"""Shared logic of the classic hyperspectral benchmark scenes (Indian Pines etc.)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
import rasterio
import torch
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from torch import Tensor
from torchgeo.datasets import NonGeoDataset
from torchgeo.datasets.errors import DatasetNotFoundError
from torchgeo.datasets.utils import check_integrity, download_url

from ..plot import plot_spectral_sample
from .io import rasterio_env
from .mat import load_mat_array
from .utils import select_bands

__all__ = ['HyperspectralScene', 'SceneFile']

Sample = dict[str, Tensor]


@dataclass(frozen=True)
class SceneFile:
    """One downloadable file of a scene.

    Attributes:
        filename: Name of the file in ``root``.
        url: Official download URL, or None when it cannot be downloaded.
        md5: MD5 checksum, or None when not recorded.
        key: Variable name inside a ``.mat`` file.
    """

    filename: str
    url: str | None
    md5: str | None
    key: str | None = None

    def with_url(self, url: str, md5: str | None) -> SceneFile:
        """Copy with another URL and checksum (for mirrors and tests).

        Args:
            url: New URL.
            md5: New checksum.

        Returns:
            The copy.
        """
        return replace(self, url=url, md5=md5)


class HyperspectralScene(NonGeoDataset):
    """Base class of single-scene hyperspectral benchmarks with a label map.

    Subclasses only declare metadata: :attr:`image_file`, :attr:`gt_file`,
    :attr:`class_names`, :attr:`wavelength_table` (and optionally
    :attr:`colors`). The scene (``(rows, cols, bands)`` in the ``.mat`` file,
    MATLAB v5 or v7.3/HDF5, or a GeoTIFF) is loaded once into memory.

    Modes:

    * ``'patch'``: one sample per LABELLED pixel: ``image`` is the
      ``patch_size`` x ``patch_size`` window centred on it (zero padded at the
      scene border) and ``label`` its class, shifted to ``0..K-1``
      (``class_names[label]``; ground-truth value 0 = unlabelled is excluded).
    * ``'tile'``: the scene cut into ``tile_size`` tiles (the last row/column
      zero padded) with ``mask`` holding the ground truth UNSHIFTED: 0 =
      unlabelled (use ``ignore_index=0``), ``k`` = ``class_names[k - 1]``.

    Every sample carries ``wavelength`` (bands sorted by wavelength).

    Downloads follow TorchGeo: ``download=False`` by default, files are checked
    with MD5 after downloading (and on load with ``checksum=True``) when the
    class records a checksum; :class:`DatasetNotFoundError` when files are
    missing.
    """

    #: The hyperspectral cube.
    image_file: ClassVar[SceneFile]
    #: The ground-truth label map.
    gt_file: ClassVar[SceneFile]
    #: Names of classes 1..K of the ground truth.
    class_names: ClassVar[tuple[str, ...]]
    #: Function returning the band centres (nm) in file band order.
    wavelength_table: ClassVar[Callable[[], npt.NDArray[np.float64]]]
    #: Colours of classes 1..K (matplotlib colours); tab20 when empty.
    colors: ClassVar[tuple[str, ...]] = ()
    #: Citation or description shown in the documentation.
    description: ClassVar[str] = ''

    def __init__(
        self,
        root: str | os.PathLike[str] = 'data',
        mode: Literal['patch', 'tile'] = 'patch',
        patch_size: int = 9,
        tile_size: int = 64,
        transforms: Callable[[Sample], Sample] | None = None,
        download: bool = False,
        checksum: bool = False,
    ) -> None:
        """Initialize a new scene.

        Args:
            root: Folder of the files.
            mode: ``'patch'`` (classification of labelled pixels) or ``'tile'``
                (segmentation tiles).
            patch_size: Odd side of the patches in patch mode.
            tile_size: Side of the tiles in tile mode.
            transforms: Function applied to each sample.
            download: Download missing files.
            checksum: Verify MD5 checksums of existing files.

        Raises:
            DatasetNotFoundError: If files are missing and ``download=False``.
            RuntimeError: If a checksum does not match.
            ValueError: For an even patch size, an unknown mode, or scene files
                whose band count, shape or labels disagree with the metadata.
        """
        if mode not in ('patch', 'tile'):
            raise ValueError(f"mode must be 'patch' or 'tile', got {mode!r}")
        if patch_size < 1 or patch_size % 2 == 0:
            raise ValueError(
                f'patch_size must be a positive odd number, got {patch_size}'
            )
        if tile_size < 1:
            raise ValueError(f'tile_size must be positive, got {tile_size}')
        self.root = Path(root)
        self.mode = mode
        self.patch_size = patch_size
        self.tile_size = tile_size
        self.transforms = transforms
        self.download = download
        self.checksum = checksum
        self._verify()
        file_w = np.asarray(type(self).wavelength_table(), dtype=np.float64)
        self.selection = select_bands(file_w, name=type(self).__name__)
        self.wavelengths = torch.tensor(self.selection.wavelengths, dtype=torch.float32)
        self.image = self._load_image(file_w.size)
        self.gt = self._load_gt()
        self.num_classes = len(self.class_names)
        rows, cols = np.nonzero(self.gt)
        self.pixels = np.stack([rows, cols], axis=1)
        h, w = self.gt.shape
        self.tiles = [
            (r, c) for r in range(0, h, tile_size) for c in range(0, w, tile_size)
        ]

    # ------------------------------------------------------------- files
    def _verify(self) -> None:
        """Check the files, downloading them if allowed.

        Raises:
            DatasetNotFoundError: If files are missing and download is False.
            RuntimeError: If a checksum does not match or no URL is known.
        """
        missing = []
        for spec in (self.image_file, self.gt_file):
            path = self.root / spec.filename
            if path.is_file():
                if self.checksum and not check_integrity(path, spec.md5):
                    raise RuntimeError(
                        f'{path}: MD5 checksum does not match {spec.md5}'
                    )
            else:
                missing.append(spec)
        if not missing:
            return
        if not self.download:
            raise DatasetNotFoundError(self)
        for spec in missing:
            if spec.url is None:
                msg = (
                    f'{type(self).__name__}: {spec.filename} has no public download '
                    f'URL; place it in {self.root} (see the class documentation)'
                )
                raise RuntimeError(msg)
            download_url(spec.url, self.root, filename=spec.filename, md5=spec.md5)

    def _read(self, spec: SceneFile) -> npt.NDArray[np.generic]:
        """Read a scene file (``.mat`` or raster).

        Args:
            spec: The file.

        Returns:
            The array as stored: ``(rows, cols[, bands])`` for ``.mat``,
            ``(bands, rows, cols)`` for rasters.
        """
        path = self.root / spec.filename
        if path.suffix.lower() == '.mat':
            return load_mat_array(path, spec.key)
        with rasterio_env(), rasterio.open(path) as src:
            return np.asarray(src.read())

    def _load_image(self, num_bands: int) -> npt.NDArray[np.float32]:
        """Load the cube as ``(C, H, W)`` float32, bands sorted by wavelength.

        Args:
            num_bands: Expected band count.

        Returns:
            The cube.

        Raises:
            ValueError: Naming the file, if it is not 3-D with ``num_bands``.
        """
        path = self.root / self.image_file.filename
        array = self._read(self.image_file)
        if array.ndim != 3:
            raise ValueError(f'{path}: expected a 3-D cube, got shape {array.shape}')
        if path.suffix.lower() == '.mat':
            array = np.moveaxis(array, -1, 0)
        if array.shape[0] != num_bands:
            msg = (
                f'{path}: {array.shape[0]} bands, but {type(self).__name__} has '
                f'{num_bands} wavelengths'
            )
            raise ValueError(msg)
        return np.ascontiguousarray(array[self.selection.indexes], dtype=np.float32)

    def _load_gt(self) -> npt.NDArray[np.int64]:
        """Load the label map and check it against the cube and class list.

        Returns:
            ``(H, W)`` int64 labels, 0 = unlabelled.

        Raises:
            ValueError: Naming the file, for a wrong shape or unknown labels.
        """
        path = self.root / self.gt_file.filename
        gt = np.squeeze(self._read(self.gt_file))
        if gt.shape != self.image.shape[1:]:
            msg = (
                f'{path}: label map of shape {gt.shape}, cube is {self.image.shape[1:]}'
            )
            raise ValueError(msg)
        gt = gt.astype(np.int64)
        bad = np.unique(gt[(gt < 0) | (gt > len(self.class_names))])
        if bad.size:
            msg = (
                f'{path}: labels {bad.tolist()} outside the class list 0..'
                f'{len(self.class_names)} (0 = unlabelled)'
            )
            raise ValueError(msg)
        return gt

    # ------------------------------------------------------------ access
    def __len__(self) -> int:
        """Number of samples.

        Returns:
            Labelled pixels (patch mode) or tiles (tile mode).
        """
        return len(self.pixels) if self.mode == 'patch' else len(self.tiles)

    def _window(self, row: int, col: int, size: int) -> tuple[Tensor, Tensor]:
        """Cut a zero-padded window of image and ground truth.

        Args:
            row: Top row (may be negative).
            col: Left column (may be negative).
            size: Side.

        Returns:
            ``(C, size, size)`` image and ``(size, size)`` ground truth.
        """
        c, h, w = self.image.shape
        image = np.zeros((c, size, size), dtype=np.float32)
        gt = np.zeros((size, size), dtype=np.int64)
        r0, r1 = max(row, 0), min(row + size, h)
        c0, c1 = max(col, 0), min(col + size, w)
        image[:, r0 - row : r1 - row, c0 - col : c1 - col] = self.image[:, r0:r1, c0:c1]
        gt[r0 - row : r1 - row, c0 - col : c1 - col] = self.gt[r0:r1, c0:c1]
        return torch.from_numpy(image), torch.from_numpy(gt)

    def __getitem__(self, index: int) -> Sample:
        """Return a patch (with ``label``) or a tile (with ``mask``).

        Args:
            index: Sample index.

        Returns:
            The sample.

        Raises:
            IndexError: If out of range.
        """
        if not -len(self) <= index < len(self):
            raise IndexError(f'index {index} out of range for {len(self)} samples')
        sample: Sample
        if self.mode == 'patch':
            row, col = (int(v) for v in self.pixels[index])
            half = self.patch_size // 2
            image, _ = self._window(row - half, col - half, self.patch_size)
            label = torch.tensor(int(self.gt[row, col]) - 1, dtype=torch.long)
            sample = {'image': image, 'label': label}
        else:
            row, col = self.tiles[index]
            image, mask = self._window(row, col, self.tile_size)
            sample = {'image': image, 'mask': mask}
        sample['wavelength'] = self.wavelengths.clone()
        if self.transforms is not None:
            sample = self.transforms(sample)
        return sample

    @property
    def labels(self) -> npt.NDArray[np.int64]:
        """Class (0..K-1) of every patch-mode sample, for stratified splits.

        Returns:
            One label per labelled pixel.
        """
        return self.gt[self.pixels[:, 0], self.pixels[:, 1]] - 1

    @property
    def cmap(self) -> ListedColormap:  # type: ignore[override]
        """Colour map of the ground truth: black for 0, then class colours.

        Returns:
            ``K + 1`` colours.
        """
        if self.colors:
            return ListedColormap(['black', *self.colors])
        tab = colormaps['tab20']
        colours = [tab(i % 20) for i in range(len(self.class_names))]
        return ListedColormap([(0.0, 0.0, 0.0, 1.0), *colours])

    def plot(
        self, sample: Sample, show_titles: bool = True, suptitle: str | None = None
    ) -> Figure:
        """Plot a sample: false colour by wavelength, mean spectrum, mask.

        Args:
            sample: A sample from :meth:`__getitem__`.
            show_titles: Title the panels.
            suptitle: Figure title.

        Returns:
            The figure.
        """
        sample = dict(sample)
        sample.setdefault('wavelength', self.wavelengths)
        return plot_spectral_sample(
            sample,
            show_titles=show_titles,
            suptitle=suptitle,
            class_names=list(self.class_names),
            cmap=self.cmap,
        )

    @classmethod
    def num_bands(cls) -> int:
        """Number of bands of the scene.

        Returns:
            The band count.
        """
        return int(np.asarray(cls.wavelength_table()).size)
