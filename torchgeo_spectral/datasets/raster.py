"""Georeferenced spectral rasters (GeoTIFF, ENVI) as a TorchGeo RasterDataset."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.errors
import rasterio.merge
import rasterio.transform
import rasterio.windows
import torch
from matplotlib.colors import Colormap
from pyproj import CRS
from torch import Tensor
from torchgeo.datasets import GeoDataset, IntersectionDataset, RasterDataset
from torchgeo.datasets.errors import DatasetNotFoundError
from torchgeo.datasets.utils import GeoSlice, Sample, array_to_tensor

from ..plot.sample import SpectralPlotMixin
from ..sensors import get_sensor
from ..wavelengths import same_band_set, to_nanometers
from .io import (
    CubeInfo,
    is_sidecar,
    missing_data_message,
    orphan_headers,
    rasterio_env,
    read_failed_message,
)
from .utils import (
    BadBandSpec,
    BandSelection,
    concat_spectral_samples,
    requested_wavelengths,
    select_bands,
)

__all__ = ['HyperspectralRaster']


@dataclass(frozen=True)
class _BandSet:
    """Files that share one band set.

    Attributes:
        count: Number of bands in each file.
        wavelengths: Centres in nm (file order) of the first file, or None.
        files: The files.
    """

    count: int
    wavelengths: npt.NDArray[np.float64] | None
    files: tuple[str, ...]

    def describe(self) -> str:
        """One-line description for error messages.

        Returns:
            The description.
        """
        if self.wavelengths is None:
            span = 'no wavelengths'
        else:
            span = f'{self.wavelengths.min():.1f}-{self.wavelengths.max():.1f} nm'
        shown = ', '.join(self.files[:3]) + (' ...' if len(self.files) > 3 else '')
        return f'{self.count} bands ({span}): {shown}'


def _georeferenced(path: str) -> bool:
    """Whether rasterio finds an affine transform or GCPs in a file.

    Args:
        path: Raster path.

    Returns:
        True if the file can be placed on a map.
    """
    with rasterio_env(), rasterio.open(path) as src:
        gcps, gcp_crs = src.gcps
        has_affine = src.transform is not None and not src.transform.is_identity
        return bool(has_affine and src.crs is not None) or bool(gcps and gcp_crs)


def _slice_tensor(x: slice, y: slice, t: slice) -> Tensor:
    """TorchGeo's ``bounds`` tensor of a resolved slice.

    Args:
        x: x slice.
        y: y slice.
        t: time slice.

    Returns:
        ``[xmin, xmax, xres, ymin, ymax, yres, tmin, tmax, tres]``.
    """
    values = [x.start, x.stop, x.step, y.start, y.stop, y.step]
    values += [t.start.timestamp(), t.stop.timestamp(), t.step]
    return torch.tensor(values)


class HyperspectralRaster(SpectralPlotMixin, RasterDataset):
    """Georeferenced spectral rasters with band wavelengths.

    Reads GeoTIFFs and ENVI cubes (``.hdr`` + ``.img``/``.bsq``/``.bil``/``.bip``/
    ``.raw``/``.dat`` or no extension, as AVIRIS-NG ``*_rdn_img``) through rasterio,
    so TorchGeo samplers, ``&``/``|``, reprojection (``crs=``) and resampling
    (``res=``) work as for any :class:`~torchgeo.datasets.RasterDataset`.

    **Wavelengths** come from, in order: ``wavelengths=`` (file band order),
    ``sensor=`` (a :func:`~torchgeo_spectral.sensors.get_sensor` table; file band
    *i* is taken as the sensor's *i*-th band in increasing wavelength), or the
    file metadata (ENVI header, GeoTIFF band tags), converted to nm once, here,
    by the rule of :mod:`torchgeo_spectral.wavelengths` (stated units, else
    0.2-15 is micrometres and 200-15000 nanometres; band indices and mislabelled
    units are errors naming the file). Bands are always returned in increasing
    wavelength; unsorted files are reordered, duplicated centres are an error.

    **Band sets.** A sample never mixes band sets. Files are grouped by band count
    and wavelengths (:func:`~torchgeo_spectral.wavelengths.same_band_set`, within
    :data:`~torchgeo_spectral.wavelengths.BAND_SET_TOLERANCE_NM`). Files that do not
    match the requested band set (``wavelengths=``, ``sensor=`` or ``num_bands=``)
    are skipped with a warning; if no band set was requested and the files form
    several groups, a :class:`ValueError` lists the groups (use one dataset per
    band set, e.g. ``sensor='enmap'`` or ``num_bands=425``). Files that are not
    georeferenced are skipped with a warning.

    **Bad bands.** Flagged by the files' ``bbl`` metadata and by ``bad_bands=``
    (0-based band indices in file order, or ``(low, high)`` wavelength ranges in
    nm). With ``drop_bad_bands=True`` they are not read; otherwise they are kept
    and :attr:`good_bands` marks them. When files of one band set disagree, a
    band bad in any file is bad.

    **Nodata.** Pixels equal to the file's nodata value (or ``nodata=`` when
    given, which overrides it) and pixels outside every file become NaN. With
    ``fill_value=`` set they become that value instead and the sample gains a
    ``valid`` mask ``(H, W)`` (True where every band was valid).

    **Separate band files** (one file per band, e.g. Landsat 8 ``l8_B1.tif`` ..
    ``l8_B11.tif``): pass ``separate_files=True``, ``filename_glob`` with ``{}``
    for the band name (``'l8_{}.tif'``), ``filename_regex`` with a ``band`` group,
    and ``sensor=`` (band names and wavelengths from the sensor table) or
    ``wavelengths=`` (one per entry of ``bands``). Bands of another resolution
    (Landsat 8 B8, panchromatic, 15 m) are resampled to ``res`` (the first file's
    by default) like every other band.

    Sample keys: ``image`` (float32 ``(C, H, W)``), ``wavelength`` (float32
    ``(C,)``, nm, increasing), ``bounds``, ``transform`` (as TorchGeo 0.10) and,
    with ``fill_value``, ``valid``.
    """

    filename_glob = '*'
    filename_regex = '.*'

    def __init__(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = 'data',
        crs: CRS | None = None,
        res: float | tuple[float, float] | None = None,
        bands: Sequence[str] | None = None,
        transforms: Callable[[Sample], Sample] | None = None,
        cache: bool = True,
        *,
        sensor: str | None = None,
        wavelengths: Sequence[float] | None = None,
        num_bands: int | None = None,
        bad_bands: Sequence[BadBandSpec] | None = None,
        drop_bad_bands: bool = False,
        nodata: float | None = None,
        fill_value: float | None = None,
        separate_files: bool = False,
        filename_glob: str | None = None,
        filename_regex: str | None = None,
    ) -> None:
        """Initialize a new HyperspectralRaster.

        Args:
            paths: Files or folders to search.
            crs: CRS to warp to (defaults to the first file's).
            res: Resolution in CRS units (defaults to the first file's).
            bands: Band names to read, a subset of :attr:`all_bands` (sensor band
                names, else ``B1``..``Bn`` in file order).
            transforms: Function applied to each sample.
            cache: Cache open file handles.
            sensor: Sensor table name giving band names and wavelengths.
            wavelengths: Band centres in file band order (or ``bands`` order
                with ``separate_files``), in nm (micrometres are converted by
                the rule of :func:`~torchgeo_spectral.wavelengths.to_nanometers`).
            num_bands: Only use files with this many bands.
            bad_bands: Extra bad bands: 0-based indices (file order) or
                ``(low, high)`` nm ranges.
            drop_bad_bands: Drop bad bands instead of returning them.
            nodata: Nodata value overriding the files' own.
            fill_value: Value for nodata pixels (adds a ``valid`` mask); NaN when
                None.
            separate_files: One file per band.
            filename_glob: Glob of the files to use (``{}`` is replaced by the
                first band with ``separate_files``).
            filename_regex: Regular expression of the file names (a ``band``
                group is required with ``separate_files``).

        Raises:
            DatasetNotFoundError: If no usable file is found.
            FileNotFoundError: If an explicitly given file does not exist.
            ValueError: For invalid wavelengths, a band count that disagrees with
                the wavelengths, several band sets, or bad band entries.
        """
        requested = requested_wavelengths(wavelengths, sensor)
        self.separate_files = separate_files
        self.nodata = nodata
        self.fill_value = fill_value
        self.sensor = sensor
        if filename_regex is not None:
            self.filename_regex = filename_regex
        self.paths = paths
        self._check_explicit_files(paths)
        self._selected: list[str] | None = None
        if separate_files:
            selection, names = self._separate_band_selection(
                bands, sensor, wavelengths, bad_bands, drop_bad_bands
            )
            self.all_bands = tuple(names)
            glob = filename_glob or self.filename_glob
            self.filename_glob = glob.format(names[0])
            super().__init__(paths, crs, res, list(names), transforms, cache)
        else:
            if filename_glob is not None:
                self.filename_glob = filename_glob
            band_set = self._choose_band_set(requested, num_bands)
            self._selected = list(band_set.files)
            file_wavelengths = requested
            if file_wavelengths is None:
                assert band_set.wavelengths is not None
                file_wavelengths = band_set.wavelengths
            names = self._band_names(band_set.count, sensor)
            self.all_bands = tuple(names)
            subset = self._subset(bands, names)
            good = self._file_good(band_set.files)
            selection = select_bands(
                file_wavelengths[subset],
                bad_bands=self._remap_bad_bands(bad_bands, subset),
                file_good=None if good is None else good[subset],
                drop_bad_bands=drop_bad_bands,
                name=band_set.files[0],
            )
            file_indexes = subset[selection.indexes]
            super().__init__(paths, crs, res, None, transforms, cache)
            self.bands = tuple(names[i] for i in file_indexes)
            self.band_indexes = [int(i) + 1 for i in file_indexes]
        self.selection = selection
        self.wavelengths = torch.tensor(selection.wavelengths, dtype=torch.float32)
        self.good_bands = torch.tensor(selection.good, dtype=torch.bool)

    # ------------------------------------------------------------------ files
    @staticmethod
    def _check_explicit_files(
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    ) -> None:
        """Fail early, naming the path, when a given path does not exist.

        Args:
            paths: Files or folders.

        Raises:
            FileNotFoundError: If a path does not exist (globs are allowed).
        """
        items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        for item in items:
            text = os.fspath(item)
            if any(ch in text for ch in '*?[') or '://' in text:
                continue
            if not os.path.exists(text):
                raise FileNotFoundError(f'{text}: no such file or folder')

    @property
    def files(self) -> list[str]:
        """Raster files of the dataset (headers and side files excluded).

        Returns:
            Sorted file paths.
        """
        if self._selected is not None:
            return self._selected
        return [f for f in super().files if not is_sidecar(f)]

    def _scan(self) -> list[CubeInfo]:
        """Read the metadata of every candidate file.

        Unreadable files, ENVI headers without their data file and files that
        are not georeferenced are skipped with a warning naming them, as long
        as some file is usable.

        Returns:
            Metadata of readable, georeferenced files.

        Raises:
            DatasetNotFoundError: If no file is found.
            FileNotFoundError: If the only candidates are ENVI headers whose
                data file is missing (naming it).
            ValueError: If every raster found is not georeferenced.
        """
        infos = []
        not_georeferenced = []
        for filepath in self.files:
            try:
                info = CubeInfo.read(Path(filepath))
            except ValueError as error:
                if 'not a readable raster' not in str(error):
                    raise
                warnings.warn(f'skipping {error}', UserWarning, stacklevel=3)
                continue
            if not _georeferenced(filepath):
                not_georeferenced.append(filepath)
                continue
            infos.append(info)
        orphans = orphan_headers([Path(f) for f in super().files])
        if not infos and not_georeferenced:
            names = ', '.join(Path(f).name for f in not_georeferenced[:5])
            more = len(not_georeferenced) - 5
            msg = (
                f'{self.__class__.__name__}: every raster in {self.paths!r} is not '
                f'georeferenced (no map transform or GCPs): {names}'
                + (f' and {more} more' if more > 0 else '')
                + '; HyperspectralRaster needs georeferenced files, use '
                'ProximalHyperspectral (or the scene data module) for '
                'non-georeferenced cubes'
            )
            raise ValueError(msg)
        if not infos and orphans:
            raise FileNotFoundError(missing_data_message(orphans[0]))
        for header in orphans:
            warnings.warn(
                f'skipping {missing_data_message(header)}', UserWarning, stacklevel=3
            )
        for filepath in not_georeferenced:
            warnings.warn(
                f'skipping {filepath}: not georeferenced (no map transform or '
                'GCPs); use ProximalHyperspectral for non-georeferenced cubes',
                UserWarning,
                stacklevel=3,
            )
        if not infos:
            raise DatasetNotFoundError(self)
        return infos

    def _choose_band_set(
        self, requested: npt.NDArray[np.float64] | None, num_bands: int | None
    ) -> _BandSet:
        """Group files by band set and pick the one to use.

        Args:
            requested: Centres from ``wavelengths=`` or ``sensor=``
                (:func:`~torchgeo_spectral.datasets.utils.requested_wavelengths`),
                or None.
            num_bands: Requested band count, or None.

        Returns:
            The chosen band set.

        Raises:
            ValueError: If no file matches, files lack wavelengths, or several
                band sets remain.
        """
        infos = self._scan()
        explicit = requested is not None
        wanted = requested.size if requested is not None else num_bands
        groups: list[_BandSet] = []
        for info in infos:
            if wanted is not None and info.count != wanted:
                warnings.warn(
                    f'skipping {info.path}: {info.count} bands, not the {wanted} '
                    'of the requested band set',
                    UserWarning,
                    stacklevel=3,
                )
                continue
            key = None if explicit else info.wavelengths
            if not explicit and key is None:
                warnings.warn(
                    f'skipping {info.path}: no band wavelengths in its metadata '
                    '(pass sensor= or wavelengths= to use it)',
                    UserWarning,
                    stacklevel=3,
                )
                continue
            for i, group in enumerate(groups):
                if group.count == info.count and same_band_set(group.wavelengths, key):
                    groups[i] = _BandSet(
                        group.count, group.wavelengths, (*group.files, str(info.path))
                    )
                    break
            else:
                groups.append(_BandSet(info.count, key, (str(info.path),)))
        if not groups:
            msg = (
                f'{self.__class__.__name__}: no file in {self.paths!r} matches the '
                'requested band set or carries wavelengths (see warnings)'
            )
            raise ValueError(msg)
        if len(groups) > 1:
            lines = '\n  '.join(g.describe() for g in groups)
            msg = (
                f'{self.__class__.__name__}: files in {self.paths!r} have '
                f'{len(groups)} different band sets and a sample must not mix them:'
                f'\n  {lines}\nPass sensor=, wavelengths= or num_bands= (or a '
                'narrower filename_glob) to choose one.'
            )
            raise ValueError(msg)
        return groups[0]

    # ------------------------------------------------------------ wavelengths
    @staticmethod
    def _band_names(count: int, sensor: str | None) -> list[str]:
        """Names of the bands in file order.

        Args:
            count: Number of bands.
            sensor: Sensor name, or None.

        Returns:
            Sensor band names, or ``B1``..``Bn``.
        """
        if sensor is not None:
            return list(get_sensor(sensor).band_names)
        return [f'B{i + 1}' for i in range(count)]

    @staticmethod
    def _subset(
        bands: Sequence[str] | None, names: Sequence[str]
    ) -> npt.NDArray[np.intp]:
        """File indices of the requested bands.

        Args:
            bands: Requested names, or None for all.
            names: All names in file order.

        Returns:
            0-based indices.

        Raises:
            ValueError: If a name is unknown.
        """
        if bands is None:
            return np.arange(len(names))
        unknown = [b for b in bands if b not in names]
        if unknown:
            msg = f'unknown bands {unknown}; available: {list(names)[:10]} ...'
            raise ValueError(msg)
        return np.array([list(names).index(b) for b in bands], dtype=np.intp)

    @staticmethod
    def _remap_bad_bands(
        bad_bands: Sequence[BadBandSpec] | None, subset: npt.NDArray[np.intp]
    ) -> list[BadBandSpec]:
        """Translate file-order bad band indices into subset positions.

        Args:
            bad_bands: User entries (indices in file order or nm ranges).
            subset: File indices of the selected bands.

        Returns:
            Entries relative to the subset (indices outside it are dropped).
        """
        out: list[BadBandSpec] = []
        position = {int(f): i for i, f in enumerate(subset)}
        for spec in bad_bands or ():
            if isinstance(spec, int | np.integer):
                if int(spec) >= len(position) and int(spec) not in position:
                    out.append(int(spec))  # out of range: reported by select_bands
                elif int(spec) in position:
                    out.append(position[int(spec)])
            else:
                out.append(spec)
        return out

    @staticmethod
    def _file_good(files: Sequence[str]) -> npt.NDArray[np.bool_] | None:
        """Combined bad-band list of files (a band bad in any file is bad).

        Args:
            files: Files of one band set.

        Returns:
            True for good bands, or None if no file has a list.
        """
        good: npt.NDArray[np.bool_] | None = None
        for filepath in files:
            info_good = CubeInfo.read(Path(filepath)).good
            if info_good is not None:
                good = info_good if good is None else good & info_good
        return good

    def _separate_band_selection(
        self,
        bands: Sequence[str] | None,
        sensor: str | None,
        wavelengths: Sequence[float] | None,
        bad_bands: Sequence[BadBandSpec] | None,
        drop_bad_bands: bool,
    ) -> tuple[BandSelection, list[str]]:
        """Band names (sorted by wavelength) for one-file-per-band datasets.

        Args:
            bands: Requested band names (all sensor bands when None).
            sensor: Sensor name, or None.
            wavelengths: Centres for ``bands``, or None.
            bad_bands: Bad bands (indices into ``bands`` or nm ranges).
            drop_bad_bands: Drop them.

        Returns:
            The selection and the band names in read order.

        Raises:
            ValueError: Without wavelength source, or unknown band names.
        """
        if sensor is not None:
            table = get_sensor(sensor)
            names = list(bands) if bands is not None else list(table.band_names)
            unknown = [b for b in names if b not in table.band_names]
            if unknown:
                msg = (
                    f'bands {unknown} are not in sensor {sensor!r}: {table.band_names}'
                )
                raise ValueError(msg)
            centres = [table.wavelengths[table.band_names.index(b)] for b in names]
        elif wavelengths is not None and bands is not None:
            names = list(bands)
            centres = to_nanometers(wavelengths, source='wavelengths=').tolist()
            if len(centres) != len(names):
                msg = f'{len(centres)} wavelengths given for {len(names)} bands'
                raise ValueError(msg)
        else:
            msg = 'separate_files=True needs sensor= or bands= with wavelengths='
            raise ValueError(msg)
        selection = select_bands(
            centres, bad_bands=bad_bands, drop_bad_bands=drop_bad_bands, name='bands'
        )
        return selection, [names[i] for i in selection.indexes]

    # ---------------------------------------------------------------- reading
    def _merge_or_stack(
        self,
        filepaths: Sequence[str],
        index: GeoSlice,
        band_indexes: Sequence[int] | None = None,
        out_crs: CRS | None = None,
    ) -> Tensor:
        """Read and mosaic files as float32 with NaN for nodata.

        Args:
            filepaths: Files to merge.
            index: The spatial slice.
            band_indexes: 1-based band indexes, or None for all.
            out_crs: CRS to warp to.

        Returns:
            ``(C, H, W)`` float32 tensor.
        """
        out_crs = out_crs or self.crs
        if self.cache:
            handles = [self._cached_load_warp_file(fp, out_crs) for fp in filepaths]
        else:
            handles = [self._load_warp_file(fp, out_crs) for fp in filepaths]
        x, y, _ = self._disambiguate_slice(index)
        dest, _ = rasterio.merge.merge(
            handles,
            bounds=(x.start, y.start, x.stop, y.stop),
            res=(x.step, y.step),
            indexes=band_indexes,
            resampling=self.resampling,
            nodata=np.nan,
            dtype='float32',
        )
        return array_to_tensor(dest)

    @property
    def crs(self) -> CRS:
        """CRS of the dataset (cached; reset when the CRS or the index changes).

        Returns:
            The CRS.
        """
        cached = self.__dict__.get('_crs_cache')
        if cached is None or cached[0] is not self.index:
            cached = (self.index, RasterDataset.crs.fget(self))  # type: ignore[attr-defined]
            self.__dict__['_crs_cache'] = cached
        result: CRS = cached[1]
        return result

    @crs.setter
    def crs(self, new_crs: CRS) -> None:
        """Reproject the index to a new CRS and reset the caches.

        Args:
            new_crs: The new CRS.
        """
        RasterDataset.crs.fset(self, new_crs)  # type: ignore[attr-defined]
        for key in ('_crs_cache', '_bounds_cache', '_index_arrays'):
            self.__dict__.pop(key, None)

    @property
    def bounds(self) -> tuple[slice, slice, slice]:
        """Bounds of the index, cached until the index or resolution changes.

        Returns:
            Bounding x, y, and t slices.
        """
        key = (id(self.index), len(self.index), self.res)
        cached = self.__dict__.get('_bounds_cache')
        if cached is None or cached[0] != key:
            cached = (key, super().bounds)
            self.__dict__['_bounds_cache'] = cached
        result: tuple[slice, slice, slice] = cached[1]
        return result

    def _query(self, x: slice, y: slice, t: slice) -> list[str]:
        """Files overlapping a slice (bounding-box test on cached arrays).

        Equivalent to TorchGeo's ``index.cx`` query but without building
        GeoDataFrames per sample; the arrays are rebuilt when ``index`` changes
        (e.g. after a split).

        Args:
            x: x slice.
            y: y slice.
            t: time slice.

        Returns:
            File paths in index order.
        """
        cache = self.__dict__.get('_index_arrays')
        if cache is None or cache[0] is not self.index:
            boxes = np.asarray(self.index.geometry.bounds.to_numpy(), dtype=np.float64)
            left = self.index.index.left
            right = self.index.index.right
            files = list(self.index.filepath)
            cache = (self.index, boxes, left, right, files)
            self.__dict__['_index_arrays'] = cache
        _, boxes, left, right, files = cache
        in_time = np.asarray((left <= t.stop) & (right >= t.start), dtype=bool)
        hits = np.flatnonzero(in_time)[:: t.step]
        b = boxes[hits]
        inside = (
            (b[:, 0] < x.stop)
            & (b[:, 2] > x.start)
            & (b[:, 1] < y.stop)
            & (b[:, 3] > y.start)
        )
        return [files[i] for i in hits[inside]]

    def _read_window(
        self, filepath: str, x: slice, y: slice, band_indexes: Sequence[int] | None
    ) -> Tensor | None:
        """Fast path: read a slice lying inside one file at its resolution.

        Same result as :meth:`_merge_or_stack` for that case (a windowed read
        with the dataset's resampling, nodata -> NaN), without the mosaicking
        overhead of :func:`rasterio.merge.merge`.

        Args:
            filepath: The only file overlapping the slice.
            x: x slice (with resolution step).
            y: y slice (with resolution step).
            band_indexes: 1-based band indexes, or None for all.

        Returns:
            ``(C, H, W)`` float32 tensor, or None when the slice is not inside
            the file or the resolution differs.
        """
        if self.cache:
            src = self._cached_load_warp_file(filepath, self.crs)
        else:
            src = self._load_warp_file(filepath, self.crs)
        try:
            left, bottom, right, top = src.bounds
            res_x, res_y = src.res
            tol_x, tol_y = 1e-6 * abs(x.step), 1e-6 * abs(y.step)
            inside = (
                x.start >= left - tol_x
                and x.stop <= right + tol_x
                and y.start >= bottom - tol_y
                and y.stop <= top + tol_y
            )
            same_res = abs(res_x - x.step) <= tol_x and abs(res_y - y.step) <= tol_y
            if not (inside and same_res):
                return None
            width = round((x.stop - x.start) / x.step)
            height = round((y.stop - y.start) / y.step)
            window = rasterio.windows.from_bounds(
                x.start, y.start, x.stop, y.stop, transform=src.transform
            )
            offsets = (window.col_off, window.row_off)
            aligned = all(abs(v - round(v)) < 1e-6 for v in offsets)
            if aligned:
                window = rasterio.windows.Window(
                    round(window.col_off), round(window.row_off), width, height
                )
            indexes = list(band_indexes) if band_indexes is not None else None
            if indexes == list(range(1, src.count + 1)):
                indexes = None  # one dataset-level read is faster than per band
            count = len(indexes) if indexes is not None else src.count
            # Native dtype, then convert: faster than GDAL's out_dtype path.
            raw = src.read(
                indexes,
                window=window,
                out_shape=None if aligned else (count, height, width),
                resampling=self.resampling,
            )
            nodata = self.nodata if self.nodata is not None else src.nodata
            data = raw.astype(np.float32, copy=False)
            if nodata is None and not np.isfinite(data).all():
                band, row, col = (int(v[0]) for v in np.nonzero(~np.isfinite(data)))
                file_band = indexes[band] if indexes is not None else band + 1
                msg = (
                    f'{filepath}: value {data[band, row, col]} at band {file_band}, '
                    f'pixel (row {int(window.row_off) + row}, col '
                    f'{int(window.col_off) + col}), and the file declares no nodata '
                    "value; pass nodata=float('nan') to treat NaN as nodata"
                )
                raise ValueError(msg)
            if nodata is not None and not np.isnan(nodata):
                invalid = raw == np.asarray(nodata).astype(raw.dtype)
                if data is raw:
                    data = data.copy()
                data[invalid] = np.nan
            return torch.from_numpy(data)
        finally:
            if not self.cache:
                src.close()

    def _read(
        self,
        filepaths: Sequence[str],
        index: tuple[slice, slice, slice],
        band_indexes: Sequence[int] | None,
    ) -> Tensor:
        """Read a slice from files: fast path for one file, else a mosaic.

        Args:
            filepaths: Files overlapping the slice.
            index: The resolved ``(x, y, t)`` slice.
            band_indexes: 1-based band indexes, or None for all.

        Returns:
            ``(C, H, W)`` float32 tensor with NaN for nodata.

        Raises:
            ValueError: Naming the files, if rasterio cannot read them (e.g. a
                truncated file).
        """
        try:
            if len(filepaths) == 1:
                x, y, _ = index
                data = self._read_window(filepaths[0], x, y, band_indexes)
                if data is not None:
                    return data
            return self._merge_or_stack(filepaths, index, band_indexes)
        except rasterio.errors.RasterioError as error:
            names = ', '.join(filepaths)
            raise ValueError(read_failed_message(names, error)) from error

    def __getitem__(self, index: GeoSlice) -> Sample:
        """Read the bands of a spatiotemporal slice.

        Args:
            index: ``[xmin:xmax:xres, ymin:ymax:yres, tmin:tmax:tres]``.

        Returns:
            The sample (see the class docstring for keys).

        Raises:
            IndexError: If the slice is outside the dataset.
        """
        x, y, t = self._disambiguate_slice(index)
        resolved = (x, y, t)
        filepaths = self._query(x, y, t)
        if not filepaths:
            msg = f'index: {index} not found in dataset with bounds: {self.bounds}'
            raise IndexError(msg)
        if self.separate_files:
            parts = [
                self._read(
                    [self._update_filepath(b, fp) for fp in filepaths], resolved, None
                )
                for b in self.bands
            ]
            data = torch.cat(parts, dim=-3)
        else:
            data = self._read(filepaths, resolved, self.band_indexes)
        data = data.to(torch.float32)
        transform = rasterio.transform.from_origin(x.start, y.stop, x.step, y.step)
        sample: Sample = {
            'image': data,
            'wavelength': self.wavelengths.clone(),
            'bounds': _slice_tensor(x, y, t),
            'transform': torch.tensor(transform),
        }
        if self.fill_value is not None:
            finite = torch.isfinite(data)
            sample['valid'] = finite.all(dim=0)
            sample['image'] = torch.where(
                finite, data, torch.tensor(self.fill_value, dtype=data.dtype)
            )
        if self.transforms is not None:
            sample = self.transforms(sample)
        return sample

    def __and__(self, other: GeoDataset) -> IntersectionDataset:
        """Intersect with another dataset (e.g. a label raster).

        ``bounds``, ``transform`` and ``wavelength`` are kept once (see
        :func:`~torchgeo_spectral.datasets.utils.concat_spectral_samples`).

        Args:
            other: Dataset to intersect with.

        Returns:
            The intersection.

        Raises:
            ValueError: Naming the files and CRSs, if they do not overlap.
        """
        other_crs = other.crs
        other_bounds = tuple(other.index.total_bounds)
        try:
            return IntersectionDataset(self, other, collate_fn=concat_spectral_samples)
        except RuntimeError as error:
            mine = ', '.join(self.files[:3])
            theirs = ', '.join(getattr(other, 'files', [])[:3]) or str(other)
            msg = (
                f'no overlap between {mine} (CRS {self.crs.to_string()}, bounds '
                f'{tuple(self.index.total_bounds)}) and {theirs} (CRS '
                f'{other_crs.to_string()}, bounds {other_bounds}): {error}'
            )
            raise ValueError(msg) from error

    def plot_cmap(self) -> str | Colormap | None:
        """Color map of the mask panels: the file's palette, when it has one.

        Returns:
            TorchGeo's ``cmap`` read from the first file, or None.
        """
        return self.cmap

    def __str__(self) -> str:
        """Describe the dataset.

        Returns:
            A short description.
        """
        w = self.wavelengths
        return (
            f'{super().__str__()}\n    bands: {w.numel()} '
            f'({float(w.min()):.1f}-{float(w.max()):.1f} nm)'
        )
