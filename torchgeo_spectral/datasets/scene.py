"""Shared logic of the classic hyperspectral benchmark scenes (Indian Pines etc.)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
import rasterio
import torch
from affine import Affine
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from rasterio.crs import CRS
from torch import Tensor
from torchgeo.datasets import NonGeoDataset
from torchgeo.datasets.errors import DatasetNotFoundError
from torchgeo.datasets.utils import Sample, check_integrity, download_url

from ..plot.sample import SpectralPlotMixin
from .io import rasterio_env, read_georeference
from .mat import load_mat_array
from .utils import BadBandSpec, select_bands

__all__ = ['HyperspectralScene', 'SceneFile']


def _starts(length: int, size: int, step: int) -> list[int]:
    """Window starts along one axis that cover ``length`` pixels.

    Args:
        length: Scene side.
        size: Window side.
        step: Step between windows.

    Returns:
        Starts from 0 every ``step``, ending with the first window that reaches
        the far edge (padded beyond it when the scene is smaller than a window).
    """
    starts = [0]
    while starts[-1] + size < length:
        starts.append(starts[-1] + step)
    return starts


def _measured_tiles(
    nodata: npt.NDArray[np.bool_], size: int, step: int
) -> npt.NDArray[np.int64]:
    """Tile origins that cover a scene, less those without one pixel of data.

    A tile outside a swath or all in a raster's nodata has nothing to learn
    from; with 1 px pretraining tiles every such pixel would cost a sample.

    Args:
        nodata: ``(H, W)`` True where a pixel has no finite value.
        size: Tile side.
        step: Step between tiles.

    Returns:
        ``(N, 2)`` ``(row, col)`` of each kept tile, row by row (an array, not
        tuples: 1 px tiles of a large scene are millions).
    """
    h, w = nodata.shape
    rows = np.array(_starts(h, size, step))
    cols = np.array(_starts(w, size, step))
    # measured pixels per tile from the summed-area table: no loop over tiles
    table = np.zeros((h + 1, w + 1), dtype=np.int64)
    table[1:, 1:] = (~nodata).cumsum(0).cumsum(1)
    r0, c0 = rows[:, None], cols[None, :]
    r1, c1 = np.minimum(r0 + size, h), np.minimum(c0 + size, w)
    counts = table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0]
    kept_rows, kept_cols = np.nonzero(counts)
    return np.stack([rows[kept_rows], cols[kept_cols]], axis=1).astype(np.int64)


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


class HyperspectralScene(SpectralPlotMixin, NonGeoDataset):
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
      zero padded; tiles without one pixel of data left out) with ``mask``
      holding the ground truth UNSHIFTED: 0 = unlabelled (use
      ``ignore_index=0``), ``k`` = ``class_names[k - 1]``.

    Every sample carries ``wavelength`` (bands sorted by wavelength). Bands
    named in ``bad_bands`` (and those a file's ``bbl`` flags) are left out.

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
    #: Good bands (file order) by the file's own bad-band list (ENVI ``bbl``),
    #: or None when it has none.
    _file_good: npt.NDArray[np.bool_] | None = None
    #: ``(H, W)`` True at test pixels that came with the scene (a benchmark's
    #: separate test map); None when a split draws its own test pixels.
    test_mask: npt.NDArray[np.bool_] | None = None
    #: ``(H, W)`` True at pixels without a finite value in any band (no data:
    #: outside a swath, a raster's nodata), set when the cube is read.
    nodata: npt.NDArray[np.bool_]

    def __init__(
        self,
        root: str | os.PathLike[str] = 'data',
        mode: Literal['patch', 'tile'] = 'patch',
        patch_size: int = 9,
        tile_size: int = 64,
        transforms: Callable[[Sample], Sample] | None = None,
        download: bool = False,
        checksum: bool = False,
        *,
        tile_stride: int | None = None,
        pad_value: float = 0.0,
        bad_bands: Sequence[BadBandSpec] | None = None,
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
            tile_stride: Step between tiles in tile mode (``tile_size`` when
                None); a smaller step gives overlapping tiles, e.g. for
                pretraining on every pixel of a small scene.
            pad_value: Value of image pixels outside the scene in border
                windows. NaN lets the data modules normalize first and pad
                after (NaN becomes 0, the band mean, after normalization).
            bad_bands: Bands to leave out, such as water-absorption bands:
                0-based indices in file order or ``(low, high)`` ranges in nm.

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
        if tile_stride is not None and tile_stride < 1:
            raise ValueError(f'tile_stride must be positive, got {tile_stride}')
        self.root = Path(root)
        self.mode = mode
        self.patch_size = patch_size
        self.tile_size = tile_size
        self.tile_stride = tile_stride or tile_size
        self.pad_value = float(pad_value)
        self.transforms = transforms
        self.download = download
        self.checksum = checksum
        self.bad_bands = bad_bands
        self._verify()
        image, file_w, gt = self._read_scene()
        self._setup(image, file_w, gt)

    def _read_scene(
        self,
    ) -> tuple[
        npt.NDArray[np.generic], npt.NDArray[np.float64], npt.NDArray[np.generic]
    ]:
        """Read the cube, its band centres and the label map as stored.

        Subclasses that read other sources (for example a cube and a label
        raster given as paths) override this and :meth:`_verify`.

        Returns:
            ``(image, wavelengths, labels)``: the ``(C, H, W)`` cube in file band
            order, its ``(C,)`` band centres in nm, and the ``(H, W)`` label map.

        Raises:
            ValueError: Naming the file, if the cube is not 3-D.
        """
        file_w = np.asarray(type(self).wavelength_table(), dtype=np.float64)
        array = self._read(self.image_file)
        if array.ndim != 3:
            msg = f'{self.image_path}: expected a 3-D cube, got shape {array.shape}'
            raise ValueError(msg)
        if self.image_path.suffix.lower() == '.mat':
            array = np.moveaxis(array, -1, 0)
        return array, file_w, np.squeeze(self._read(self.gt_file))

    def _setup(
        self,
        image: npt.NDArray[np.generic],
        file_w: npt.NDArray[np.float64],
        gt: npt.NDArray[np.generic],
    ) -> None:
        """Sort the bands, check the label map and index the samples.

        Args:
            image: ``(C, H, W)`` cube in file band order.
            file_w: Band centres in nm in file band order.
            gt: ``(H, W)`` label map, 0 = unlabelled.

        Raises:
            ValueError: Naming the file, in tile mode, if no pixel has data.
        """
        self.selection = select_bands(
            file_w,
            bad_bands=self.bad_bands,
            file_good=self._file_good,
            drop_bad_bands=True,
            name=str(self.image_path),
        )
        self.wavelengths = torch.tensor(self.selection.wavelengths, dtype=torch.float32)
        self.image = self._check_image(image, file_w.size)
        self.gt = self._check_gt(gt)
        self.num_classes = len(self.class_names)
        rows, cols = np.nonzero(self.gt)
        self.pixels = np.stack([rows, cols], axis=1)
        # tile origins only where they are the samples (0.3 s for a 2517 x
        # 2335 px scene that patch mode would not use)
        self.tiles = np.empty((0, 2), dtype=np.int64)
        if self.mode == 'tile':
            self.tiles = _measured_tiles(self.nodata, self.tile_size, self.tile_stride)
            if not len(self.tiles):
                raise ValueError(f'{self.image_path}: no pixel has a finite value')

    @property
    def image_path(self) -> Path:
        """Path of the cube file, for messages."""
        return self.root / self.image_file.filename

    @property
    def labels_path(self) -> Path:
        """Path of the label-map file, for messages."""
        return self.root / self.gt_file.filename

    @property
    def georeference(self) -> tuple[Affine, CRS] | None:
        """Transform and CRS of the cube's grid; None when it has none.

        The class map of a scene (:class:`~torchgeo_spectral.datamodules.SceneMapWriter`)
        takes them, and label polygons are burnt onto that grid.
        """
        return read_georeference(self.image_path)

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

    def _check_image(
        self, array: npt.NDArray[np.generic], num_bands: int
    ) -> npt.NDArray[np.float32]:
        """Check the cube and return it as ``(C, H, W)`` float32 sorted by wavelength.

        Args:
            array: The ``(C, H, W)`` cube in file band order.
            num_bands: Number of band centres.

        Returns:
            The cube.

        Raises:
            ValueError: Naming the file, if it is not 3-D with ``num_bands``.
        """
        path = self.image_path
        if array.ndim != 3:
            raise ValueError(f'{path}: expected a 3-D cube, got shape {array.shape}')
        if array.shape[0] != num_bands:
            msg = (
                f'{path}: {array.shape[0]} bands, but {type(self).__name__} has '
                f'{num_bands} wavelengths'
            )
            raise ValueError(msg)
        # band by band into one new array: indexing the whole cube (often a
        # transposed view of a .mat array) would make a temporary copy first
        indexes = self.selection.indexes
        cube = np.empty((indexes.size, *array.shape[1:]), dtype=np.float32)
        measured = np.zeros(array.shape[1:], dtype=bool)
        for band, index in enumerate(indexes):
            cube[band] = array[index]
            measured |= np.isfinite(cube[band])
        # pixels without one finite value (outside a swath, a raster's nodata)
        # are no data in the class map, whatever the model says about them
        self.nodata = ~measured
        return cube

    def _check_gt(self, gt: npt.NDArray[np.generic]) -> npt.NDArray[np.int64]:
        """Check the label map against the cube and the class list.

        Args:
            gt: The ``(H, W)`` label map as read.

        Returns:
            ``(H, W)`` int64 labels, 0 = unlabelled.

        Raises:
            ValueError: Naming the files, for a wrong shape or unknown labels.
        """
        path = self.labels_path
        if gt.shape != self.image.shape[1:]:
            msg = (
                f'{path}: label map of shape {gt.shape} (rows, cols), but the cube '
                f'{self.image_path} is {self.image.shape[1:]}'
            )
            raise ValueError(msg)
        if gt.dtype.kind == 'f' and not np.array_equal(gt, np.round(gt)):
            raise ValueError(f'{path}: labels must be whole numbers')
        labels = gt.astype(np.int64)
        bad, counts = np.unique(
            labels[(labels < 0) | (labels > len(self.class_names))], return_counts=True
        )
        if bad.size:
            msg = (
                f'{path}: labels {bad.tolist()} outside the classes 0..'
                f'{len(self.class_names)} (0 = unlabelled; {counts.tolist()} pixels)'
            )
            if bad[0] < 0:
                msg += f'; if {bad[0]} marks unlabelled pixels, make it 0'
            raise ValueError(msg)
        return labels

    # ------------------------------------------------------------ access
    def __len__(self) -> int:
        """Number of samples.

        Returns:
            Labelled pixels (patch mode) or tiles (tile mode).
        """
        return len(self.pixels) if self.mode == 'patch' else len(self.tiles)

    def _window(self, row: int, col: int, size: int) -> tuple[Tensor, Tensor]:
        """Cut a window of image and ground truth, padded outside the scene.

        Image pixels outside the scene take ``pad_value``, labels 0.

        Args:
            row: Top row (may be negative).
            col: Left column (may be negative).
            size: Side.

        Returns:
            ``(C, size, size)`` image and ``(size, size)`` ground truth.
        """
        c, h, w = self.image.shape
        image = np.full((c, size, size), self.pad_value, dtype=np.float32)
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
            row, col = (int(v) for v in self.tiles[index])
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

    def plot_class_names(self) -> list[str]:
        """Names of the classes, to title a sample's ``label``.

        Returns:
            :attr:`class_names`.
        """
        return list(self.class_names)

    def plot_cmap(self) -> ListedColormap:
        """Color map of the mask panels: :attr:`cmap`.

        Returns:
            ``K + 1`` colors.
        """
        return self.cmap

    @classmethod
    def num_bands(cls) -> int:
        """Number of bands of the scene.

        Returns:
            The band count.
        """
        return int(np.asarray(cls.wavelength_table()).size)
