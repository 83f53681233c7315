"""Close-range (laboratory, field, phenotyping) spectral cubes as a NonGeoDataset."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from torchgeo.datasets import NonGeoDataset
from torchgeo.datasets.errors import DatasetNotFoundError
from torchgeo.datasets.utils import Sample

from ..plot.sample import SpectralPlotMixin
from ..wavelengths import same_band_set
from .io import (
    CubeInfo,
    envi_data_file,
    find_cubes,
    missing_data_message,
    orphan_headers,
    read_cube,
    read_reference,
)
from .utils import BadBandSpec, requested_wavelengths, select_bands

__all__ = ['ProximalHyperspectral']


@dataclass(frozen=True)
class _Item:
    """One sample: a cube and a window of it.

    Attributes:
        cube: Index into the cube list.
        window: ``(row, col, height, width)``.
    """

    cube: int
    window: tuple[int, int, int, int]


def _reference_to_lines(
    ref: npt.NDArray[np.float32], path: Path, infos: Sequence[CubeInfo]
) -> npt.NDArray[np.float32]:
    """Bring a dark/white reference to ``(C, L, W)`` broadcastable to the cubes.

    Accepted shapes: ``(C,)``, ``(C, W)`` (one push-broom line), ``(C, 1, W)``,
    ``(C, L, W)`` with ``L`` equal to every cube's height (used line by line) or
    any other ``L`` (averaged over lines to ``(C, 1, W)``), and ``W`` may be 1.

    Args:
        ref: The reference array.
        path: Its file, for error messages.
        infos: The cubes it must match.

    Returns:
        The reference as ``(C, L, W)``.

    Raises:
        ValueError: Naming the file, if the shape does not fit the cubes.
    """
    count = infos[0].count
    if ref.ndim == 1:
        ref = ref[:, None, None]
    elif ref.ndim == 2:
        ref = ref[:, None, :]
    elif ref.ndim != 3:
        msg = f'{path}: reference must have 1 to 3 dimensions, got shape {ref.shape}'
        raise ValueError(msg)
    heights = {info.height for info in infos}
    if ref.shape[1] not in (1, *heights) or len(heights) > 1:
        ref = ref.mean(axis=1, keepdims=True)
    for info in infos:
        if ref.shape[0] != count or ref.shape[2] not in (1, info.width):
            msg = (
                f'{path}: reference of shape {ref.shape} does not fit the cube '
                f'{info.path} of shape {(info.count, info.height, info.width)} '
                '(expected (C,), (C, W), (C, 1, W) or (C, L, W) with C bands and '
                'W samples per line)'
            )
            raise ValueError(msg)
    return np.ascontiguousarray(ref, dtype=np.float32)


def _class_order(value: str) -> tuple[int, int, str]:
    """Sort key for class labels: integers numerically, then names.

    Args:
        value: A label as text.

    Returns:
        The key.
    """
    if value.lstrip('-').isdigit():
        return 0, int(value), ''
    return 1, 0, value


class ProximalHyperspectral(SpectralPlotMixin, NonGeoDataset):
    """A folder of close-range spectral cubes, optionally labelled and calibrated.

    Cubes are ENVI (``.hdr`` + data file), (Geo)TIFF or ``.npy`` files in
    ``root`` (not recursive). ``.npy`` cubes are ``(C, H, W)`` or ``(H, W, C)``
    (told apart by the band count) and take their wavelengths from a sidecar
    ``<stem>.wavelengths.txt``/``.csv`` or a folder-wide ``wavelengths.txt``.

    Wavelengths come from ``wavelengths=`` (file band order), ``sensor=``, or the
    file metadata, and must be the same band set for every cube (else a
    :class:`ValueError` naming the cube). Bands are returned in increasing
    wavelength; bad bands (file ``bbl`` or ``bad_bands=``) can be dropped.

    **Labels**: ``labels=`` a CSV with columns ``filename,label`` (file name with
    or without extension; labels are class names or integers) gives a per-image
    ``label`` (index into :attr:`classes`); ``masks=`` a folder of rasters or
    ``.npy`` files with the same stem as the cubes gives a per-pixel ``mask``.

    **Calibration**: with ``white=`` (and optionally ``dark=``) reference files,
    the image becomes reflectance ``(raw - dark) / (white - dark)``; references
    may be ``(C,)``, ``(C, W)``, ``(C, 1, W)`` or ``(C, L, W)`` (push-broom
    references are broadcast along lines; ``L`` other than the cube height is
    averaged). The denominator is clamped to ``eps``.

    **Patches**: with ``patch_size`` each cube is tiled into ``patch_size`` square
    windows with ``stride`` (default ``patch_size``); otherwise one sample is a
    whole cube (then cubes of different sizes need ``batch_size=1``).

    Nothing is written into ``root``.

    Sample keys: ``image`` (float32 ``(C, H, W)``), ``wavelength`` (float32
    ``(C,)``), and ``label`` (long scalar) and/or ``mask`` (long ``(H, W)``).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] = 'data',
        *,
        wavelengths: Sequence[float] | None = None,
        sensor: str | None = None,
        labels: str | os.PathLike[str] | None = None,
        classes: Sequence[str] | None = None,
        masks: str | os.PathLike[str] | None = None,
        dark: str | os.PathLike[str] | None = None,
        white: str | os.PathLike[str] | None = None,
        patch_size: int | None = None,
        stride: int | None = None,
        bad_bands: Sequence[BadBandSpec] | None = None,
        drop_bad_bands: bool = False,
        transforms: Callable[[Sample], Sample] | None = None,
        eps: float = 1e-6,
        nodata: float | None = None,
        max_sample_bytes: int = 2**31,
    ) -> None:
        """Initialize a new ProximalHyperspectral dataset.

        Args:
            root: Folder of cubes (or a single cube file).
            wavelengths: Band centres in nm, file band order.
            sensor: Sensor table name (band centres in increasing order).
            labels: CSV of per-image labels (``filename,label``).
            classes: Class names; defaults to the sorted distinct CSV labels.
            masks: Folder of per-pixel masks named like the cubes.
            dark: Dark reference file.
            white: White reference file.
            patch_size: Side of square patches, or None for whole cubes.
            stride: Step between patches (default ``patch_size``).
            bad_bands: Extra bad bands: 0-based indices or ``(low, high)`` nm.
            drop_bad_bands: Drop bad bands.
            transforms: Function applied to each sample.
            eps: Smallest white-minus-dark denominator.
            nodata: Nodata value of every cube, overriding the files' own; it
                becomes NaN in ``image``. NaN in a cube that declares no nodata
                is an error (``nodata=float('nan')`` accepts it).
            max_sample_bytes: Largest sample (float32) read at once; a whole
                cube above it is refused before anything is allocated (use
                ``patch_size``).

        Raises:
            DatasetNotFoundError: If ``root`` holds no cube.
            FileNotFoundError: If a given file or folder does not exist, or an
                ENVI header's data file is missing (naming it).
            ValueError: For inconsistent wavelengths, labels outside the class
                list, mismatched masks or references, or cubes smaller than
                ``patch_size``.
        """
        requested = requested_wavelengths(wavelengths, sensor)
        if dark is not None and white is None:
            raise ValueError('dark= needs white= for (raw - dark) / (white - dark)')
        self.root = Path(root)
        self.transforms = transforms
        self.eps = eps
        self.nodata = nodata
        self.max_sample_bytes = max_sample_bytes
        paths = self._find_paths()
        expected = None if requested is None else requested.size
        self.infos = [CubeInfo.read(p, expected) for p in paths]
        file_w = self._wavelengths(requested)
        self.selection = select_bands(
            file_w,
            bad_bands=bad_bands,
            file_good=self.infos[0].good,
            drop_bad_bands=drop_bad_bands,
            name=str(self.infos[0].path),
        )
        self.wavelengths = torch.tensor(self.selection.wavelengths, dtype=torch.float32)
        self.good_bands = torch.tensor(self.selection.good, dtype=torch.bool)
        self.classes: list[str] = list(classes) if classes is not None else []
        self.labels = self._read_labels(Path(labels)) if labels is not None else None
        self.mask_infos = self._find_masks(Path(masks)) if masks is not None else None
        self.dark, self.white = self._read_references(dark, white)
        self.items = self._tile(patch_size, stride)

    # ------------------------------------------------------------- metadata
    def _find_paths(self) -> list[Path]:
        """The cube files of ``root`` (a folder, a cube or an ENVI header).

        Returns:
            Cube paths (ENVI cubes by their data file).

        Raises:
            FileNotFoundError: If ``root`` does not exist, or it is (or a folder
                holding only) an ENVI header whose data file is missing.
            DatasetNotFoundError: If ``root`` holds no cube.
        """
        if not self.root.exists():
            raise FileNotFoundError(f'{self.root}: no such file or folder')
        if self.root.is_file():
            if self.root.suffix.lower() != '.hdr':
                return [self.root]
            data = envi_data_file(self.root)
            if data is None:
                raise FileNotFoundError(missing_data_message(self.root))
            return [data]
        paths = find_cubes(self.root)
        if not paths:
            orphans = orphan_headers(sorted(self.root.iterdir()))
            if orphans:
                raise FileNotFoundError(missing_data_message(orphans[0]))
            raise DatasetNotFoundError(self)
        return paths

    def _wavelengths(
        self, requested: npt.NDArray[np.float64] | None
    ) -> npt.NDArray[np.float64]:
        """Band centres (file order) shared by every cube.

        Args:
            requested: Centres from ``wavelengths=`` or ``sensor=``
                (:func:`~torchgeo_spectral.datasets.utils.requested_wavelengths`),
                or None.

        Returns:
            Centres in nm, file order.

        Raises:
            ValueError: Naming the cube, if a band count disagrees or a cube
                has no or different wavelengths.
        """
        if requested is not None:
            centres = requested
            for info in self.infos:
                if info.count != centres.size:
                    msg = (
                        f'{info.path}: {info.count} bands but {centres.size} '
                        'wavelengths were given'
                    )
                    raise ValueError(msg)
            return centres
        first = self.infos[0]
        for info in self.infos:
            if info.wavelengths is None:
                msg = (
                    f'{info.path}: no band wavelengths in its metadata (or sidecar); '
                    'pass wavelengths= or sensor='
                )
                raise ValueError(msg)
            assert first.wavelengths is not None
            if not same_band_set(info.wavelengths, first.wavelengths):
                msg = (
                    f'{info.path}: band set ({info.count} bands) differs from '
                    f'{first.path} ({first.count} bands); a dataset holds one band '
                    'set, use one folder per sensor'
                )
                raise ValueError(msg)
        assert first.wavelengths is not None
        return first.wavelengths

    def _read_labels(self, path: Path) -> list[int]:
        """Per-cube class indices from a ``filename,label`` CSV.

        Args:
            path: The CSV.

        Returns:
            The class index of each cube.

        Raises:
            FileNotFoundError: If the CSV does not exist.
            ValueError: Naming the CSV, for a missing cube, or a label outside
                the class list.
        """
        if not path.is_file():
            raise FileNotFoundError(f'{path}: labels CSV not found')
        table = pd.read_csv(path, dtype=str)
        if table.shape[1] < 2:
            raise ValueError(f'{path}: expected two columns filename,label')
        names = table.iloc[:, 0].str.strip().tolist()
        values = table.iloc[:, 1].str.strip().tolist()
        by_name: dict[str, str] = {}
        for name, text in zip(names, values):
            by_name[name] = text
            by_name[Path(name).stem] = text
        if not self.classes:
            self.classes = sorted(set(values), key=_class_order)
        out = []
        for info in self.infos:
            value = by_name.get(info.path.name, by_name.get(info.path.stem))
            if value is None:
                raise ValueError(f'{path}: no label for cube {info.path.name}')
            if value in self.classes:
                out.append(self.classes.index(value))
            elif value.lstrip('-').isdigit() and 0 <= int(value) < len(self.classes):
                out.append(int(value))
            else:
                msg = (
                    f'{path}: label {value!r} of {info.path.name} is not in the class '
                    f'list {self.classes}'
                )
                raise ValueError(msg)
        return out

    def _find_masks(self, folder: Path) -> list[CubeInfo]:
        """Per-pixel masks with the same stem as each cube.

        Args:
            folder: Folder of masks.

        Returns:
            Metadata of each cube's mask.

        Raises:
            FileNotFoundError: If the folder or a cube's mask is missing.
            ValueError: Naming the mask, if its shape differs from the cube's.
        """
        if not folder.is_dir():
            raise FileNotFoundError(f'{folder}: mask folder not found')
        candidates = {p.stem: p for p in find_cubes(folder)}
        out = []
        for info in self.infos:
            mask = candidates.get(info.path.stem)
            if mask is None:
                raise FileNotFoundError(f'{folder}: no mask named {info.path.stem}.*')
            mask_info = CubeInfo.read(mask, num_bands=1)
            if (mask_info.count, mask_info.height, mask_info.width) != (
                1,
                info.height,
                info.width,
            ):
                msg = (
                    f'{mask}: mask of shape {(mask_info.count, mask_info.height, mask_info.width)}'
                    f' does not match cube {info.path} ({info.height} x {info.width})'
                )
                raise ValueError(msg)
            out.append(mask_info)
        return out

    def _read_references(
        self, dark: str | os.PathLike[str] | None, white: str | os.PathLike[str] | None
    ) -> tuple[npt.NDArray[np.float32] | None, npt.NDArray[np.float32] | None]:
        """Read, check and band-select the dark and white references.

        Args:
            dark: Dark reference file, or None (zero).
            white: White reference file, or None (no calibration).

        Returns:
            ``(dark, white)`` as ``(C, L, W)`` in the selected band order.
        """
        if white is None:
            return None, None
        out: list[npt.NDArray[np.float32] | None] = []
        for ref in (dark, white):
            if ref is None:
                out.append(None)
                continue
            path = Path(ref)
            lines = _reference_to_lines(read_reference(path), path, self.infos)
            out.append(lines[self.selection.indexes])
        return out[0], out[1]

    def _tile(self, patch_size: int | None, stride: int | None) -> list[_Item]:
        """List the samples (whole cubes or patches).

        Args:
            patch_size: Patch side, or None.
            stride: Step between patches.

        Returns:
            The samples.

        Raises:
            ValueError: Naming the cube, if it is smaller than the patch.
        """
        items = []
        for i, info in enumerate(self.infos):
            if patch_size is None:
                self._check_size(info)
                items.append(_Item(i, (0, 0, info.height, info.width)))
                continue
            if info.height < patch_size or info.width < patch_size:
                msg = (
                    f'{info.path}: cube of {info.height} x {info.width} pixels is '
                    f'smaller than patch_size={patch_size}'
                )
                raise ValueError(msg)
            step = stride or patch_size
            for row in range(0, info.height - patch_size + 1, step):
                for col in range(0, info.width - patch_size + 1, step):
                    items.append(_Item(i, (row, col, patch_size, patch_size)))
        return items

    def _check_size(self, info: CubeInfo) -> None:
        """Refuse a whole-cube sample larger than ``max_sample_bytes``.

        Args:
            info: The cube.

        Raises:
            ValueError: Naming the cube and its size, before any allocation.
        """
        needed = 4 * len(self.selection.indexes) * info.height * info.width
        if needed > self.max_sample_bytes:
            msg = (
                f'{info.path}: a whole-cube sample of {len(self.selection.indexes)} '
                f'bands x {info.height} x {info.width} pixels needs '
                f'{needed / 2**30:.2f} GiB as float32, more than max_sample_bytes='
                f'{self.max_sample_bytes} ({self.max_sample_bytes / 2**30:.2f} '
                'GiB); pass patch_size= to read it in patches'
            )
            raise ValueError(msg)

    def _apply_nodata(
        self, raw: npt.NDArray[np.float32], info: CubeInfo, window: tuple[int, ...]
    ) -> npt.NDArray[np.float32]:
        """Turn nodata into NaN; refuse NaN that no nodata value declares.

        Args:
            raw: ``(C, h, w)`` data in the selected band order.
            info: Its cube.
            window: ``(row, col, height, width)`` of ``raw`` in the cube.

        Returns:
            The data, NaN at nodata.

        Raises:
            ValueError: Naming the file, the first NaN's band (and wavelength)
                and pixel, if the cube has NaN and declares no nodata.
        """
        nodata = self.nodata if self.nodata is not None else info.nodata
        if nodata is not None and not np.isnan(nodata):
            raw[raw == np.float32(nodata)] = np.nan
        elif nodata is None and not np.isfinite(raw).all():
            band, row, col = (int(v[0]) for v in np.nonzero(~np.isfinite(raw)))
            file_band = int(self.selection.indexes[band]) + 1
            msg = (
                f'{info.path}: value {raw[band, row, col]} at band {file_band} '
                f'({float(self.wavelengths[band]):g} nm), pixel (row {window[0] + row}, '
                f'col {window[1] + col}), and the file declares no nodata value; '
                "pass nodata=float('nan') to treat NaN as nodata"
            )
            raise ValueError(msg)
        return raw

    # -------------------------------------------------------------- access
    def __len__(self) -> int:
        """Number of samples.

        Returns:
            Cubes, or patches with ``patch_size``.
        """
        return len(self.items)

    def _calibrate(
        self, raw: npt.NDArray[np.float32], window: tuple[int, int, int, int]
    ) -> npt.NDArray[np.float32]:
        """Convert raw counts to reflectance with the references.

        Args:
            raw: ``(C, h, w)`` data.
            window: Its ``(row, col, height, width)`` in the cube.

        Returns:
            Reflectance (or ``raw`` when no white reference is set).
        """
        if self.white is None:
            return raw
        row, col, height, width = window

        def crop(ref: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
            rows = slice(row, row + height) if ref.shape[1] > 1 else slice(None)
            cols = slice(col, col + width) if ref.shape[2] > 1 else slice(None)
            return ref[:, rows, cols]

        white = crop(self.white)
        dark = crop(self.dark) if self.dark is not None else np.float32(0.0)
        denominator = np.maximum(white - dark, np.float32(self.eps))
        return np.asarray((raw - dark) / denominator, dtype=np.float32)

    def __getitem__(self, index: int) -> Sample:
        """Read one sample.

        Args:
            index: Sample index.

        Returns:
            ``image``, ``wavelength`` and ``label``/``mask`` when available.

        Raises:
            IndexError: If out of range.
            ValueError: Naming the file, if it cannot be read or has undeclared
                NaN.
        """
        if not -len(self) <= index < len(self):
            raise IndexError(f'index {index} out of range for {len(self)} samples')
        item = self.items[index]
        info = self.infos[item.cube]
        raw = read_cube(info, self.selection.indexes, item.window)
        raw = self._apply_nodata(raw, info, item.window)
        sample: Sample = {
            'image': torch.from_numpy(self._calibrate(raw, item.window)),
            'wavelength': self.wavelengths.clone(),
        }
        if self.labels is not None:
            sample['label'] = torch.tensor(self.labels[item.cube], dtype=torch.long)
        if self.mask_infos is not None:
            mask = read_cube(self.mask_infos[item.cube], None, item.window)[0]
            sample['mask'] = torch.from_numpy(mask.astype(np.int64))
        if self.transforms is not None:
            sample = self.transforms(sample)
        return sample

    def plot_class_names(self) -> list[str] | None:
        """Names of the classes, to title a sample's ``label``.

        Returns:
            :attr:`classes`, or None when there are none.
        """
        return self.classes or None
