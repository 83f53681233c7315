"""One scene of your own: a cube and its label map, given as file paths.

:class:`FileScene` is a :class:`~torchgeo_spectral.datasets.HyperspectralScene`
whose files are not one of the classic benchmarks: a GeoTIFF, an ENVI cube, a
``.mat`` variable or a ``.npy`` array, georeferenced or not, with a label map in
any of those formats. Band centres come from the file's metadata, or from
``wavelengths=``: a text/CSV file, a sensor name (see
:func:`~torchgeo_spectral.sensors.get_sensor`) or a list of numbers.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.errors
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from torchgeo.datasets.utils import Sample

from ..samplers.splits import as_label_map
from ..sensors.io import envi_list
from ..sensors.scenes import scenes_with_bands
from ..wavelengths import read_wavelengths
from .io import CubeInfo, envi_data_file, rasterio_env, read_cube, read_georeference
from .mat import load_mat_array
from .product import product_format
from .scene import HyperspectralScene
from .utils import BadBandSpec
from .vector_labels import VECTOR_SUFFIXES, rasterize_labels

__all__ = ['FileScene', 'WavelengthSource', 'read_class_names', 'read_label_map']

#: Band centres: a text/CSV file, a sensor name, or the values in nm.
WavelengthSource = str | os.PathLike[str] | Sequence[float]


def resolve_wavelengths(
    source: WavelengthSource | None,
    num_bands: int,
    from_file: npt.NDArray[np.float64] | None,
    image: Path,
) -> npt.NDArray[np.float64]:
    """Band centres of a cube from ``wavelengths=`` or from its own metadata.

    ``wavelengths=`` goes through :func:`~torchgeo_spectral.wavelengths.read_wavelengths`
    (the package's one reader and unit rule).

    Args:
        source: A wavelength file, a sensor or classic scene name, a list of
            centres, or None to use the cube's metadata.
        num_bands: Bands of the cube.
        from_file: Centres read from the cube's metadata, or None.
        image: The cube, for messages.

    Returns:
        ``(num_bands,)`` centres in nm, file band order.

    Raises:
        ValueError: If no centres are known, a name is neither a file nor a
            sensor, or the count differs from the bands (naming both).
    """
    if source is None:
        if from_file is None:
            msg = (
                f'{image}: the file carries no band wavelengths; pass wavelengths= '
                'a text/CSV file, a sensor name or a list of centres in nm'
                f'{_scene_hint(num_bands)}'
            )
            raise ValueError(msg)
        values = from_file
    else:
        values = read_wavelengths(source).centres
    if values.size != num_bands:
        if source is None:
            origin = f'the metadata of {image}'
        elif isinstance(source, str | os.PathLike) and Path(source).is_file():
            origin = f'wavelength file {source}'
        elif isinstance(source, str):
            origin = f'band table {source!r}'
        else:
            origin = 'wavelengths='
        msg = (
            f'{origin} gives {values.size} band centres, but {image} has '
            f'{num_bands} bands{_scene_hint(num_bands)}'
        )
        raise ValueError(msg)
    return values


def _scene_hint(num_bands: int) -> str:
    """Name the classic scenes with this band count (their cubes carry no centres).

    Args:
        num_bands: Bands of the cube.

    Returns:
        ``'; ...'`` naming the scenes, or ``''`` when none has that count.
    """
    names = scenes_with_bands(num_bands)
    if not names:
        return ''
    options = ' or '.join(f'wavelengths={name!r}' for name in names)
    return f"; for a classic scene's cube of {num_bands} bands pass {options}"


def read_label_map(
    path: str | os.PathLike[str], key: str | None = None
) -> npt.NDArray[np.generic]:
    """Read a label map as stored: a raster's first band, a ``.mat`` or ``.npy``.

    A raster's nodata pixels and NaN (the nodata of float maps that declare
    none) become 0 (unlabelled).

    Args:
        path: The label file.
        key: Variable name in a ``.mat`` file.

    Returns:
        The label map (squeezed; 2-D for a valid file).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: Naming the file, if it cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'labels file {path} does not exist')
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        msg = (
            f"{path}: label polygons are rasterized onto a cube's grid; give them "
            'with their cube (FileScene or SceneDataModule labels=)'
        )
        raise ValueError(msg)
    if suffix == '.mat':
        labels = np.squeeze(load_mat_array(path, key))
    elif suffix == '.npy':
        try:
            labels = np.asarray(np.squeeze(np.load(path, allow_pickle=False)))
        except (OSError, ValueError) as error:
            raise ValueError(f'{path}: not a readable .npy array ({error})') from error
    else:
        try:
            with rasterio_env(), rasterio.open(path) as src:
                count = src.count
                data = src.read(1, masked=True)
        except rasterio.errors.RasterioIOError as error:
            raise ValueError(f'{path}: not a readable raster ({error})') from error
        if count != 1:
            # a cube given as labels would otherwise become its first band's values
            msg = f'{path}: a label map has one band, this raster has {count}'
            raise ValueError(msg)
        labels = np.asarray(np.ma.filled(data, 0))
    if labels.dtype.kind == 'f':
        labels = np.where(np.isnan(labels), 0, labels)
    return labels


def read_class_names(path: str | os.PathLike[str]) -> tuple[str, ...] | None:
    """Class names an ENVI classification header gives a label raster.

    ENVI's classification files (what its ROI and classification tools save)
    name their classes in the header (``class names = {Unclassified, Corn,
    ...}``); value 0 is ENVI's "Unclassified", the package's unlabelled, so the
    names of classes 1..K are the header's after its first.

    Args:
        path: The label file.

    Returns:
        Names of classes 1..K, or None when the file carries none (not a raster,
        not ENVI, or a header without ``class names``).

    Raises:
        ValueError: Naming the file, if the header names fewer than two classes.
    """
    if Path(path).suffix.lower() in {'.mat', '.npy', *VECTOR_SUFFIXES}:
        return None
    with rasterio_env(), rasterio.open(path) as src:
        tags = {key.lower(): value for key, value in src.tags(ns='ENVI').items()}
    text = tags.get('class_names')
    if text is None:
        return None
    names = envi_list(text)
    if len(names) < 2:
        msg = (
            f'{path}: the ENVI header names {len(names)} class ({text}); a '
            'classification names "Unclassified" (value 0) and then classes 1..K'
        )
        raise ValueError(msg)
    return tuple(names[1:])


def _same_grid(first: tuple[Affine, CRS], second: tuple[Affine, CRS]) -> bool:
    """Whether two georeferences place pixels alike (to rounding).

    Args:
        first: ``(transform, crs)``.
        second: ``(transform, crs)``.

    Returns:
        True for the same transform and CRS.
    """
    return (
        all(round(a, 9) == round(b, 9) for a, b in zip(first[0][:6], second[0][:6]))
        and first[1] == second[1]
    )


class FileScene(HyperspectralScene):
    """A cube and its label map from files, georeferenced or not.

    The cube is loaded once into memory (bands sorted by wavelength, nodata as
    NaN) and served like the classic scenes: ``'patch'`` mode gives an odd
    window centred on every labelled pixel with its class ``label`` (0..K-1),
    ``'tile'`` mode cuts the scene into tiles whose ``mask`` holds the label map
    unshifted (0 = unlabelled). ``labels`` may be omitted to pretrain on a
    scene without labels (tile mode). ``test_labels`` adds the test map of a
    benchmark's own split: its pixels join the labels and :attr:`test_mask`
    marks them, so that the data module tests on exactly those.

    Formats: GeoTIFF and anything rasterio reads (ENVI by its data file or
    ``.hdr``), ``.mat`` (``image_key``/``labels_key`` name the variables;
    ``(rows, cols, bands)``, or ``(bands, rows, cols)`` when only the first axis
    has the band count of ``wavelengths=``), ``.npy`` (``(C, H, W)`` or
    ``(H, W, C)``), EMIT granules (NetCDF-4, orthorectified with their geometry
    lookup table, see :func:`~torchgeo_spectral.datasets.read_emit`), PRISMA
    products (``.he5``, VNIR and SWIR joined, on the map grid for L2D, see
    :func:`~torchgeo_spectral.datasets.read_prisma`). Bands an
    ENVI header's ``bbl`` or an EMIT granule's ``good_wavelengths`` flags are
    left out, as are those of ``bad_bands``. Labels may also be polygons
    (GeoPackage, shapefile, GeoJSON, FlatGeobuf) with a class column
    (``labels_key``), rasterized onto the grid of a georeferenced cube in its CRS.
    """

    def __init__(
        self,
        image: str | os.PathLike[str],
        labels: str | os.PathLike[str] | None = None,
        wavelengths: WavelengthSource | None = None,
        *,
        image_key: str | None = None,
        labels_key: str | None = None,
        test_labels: str | os.PathLike[str] | None = None,
        test_labels_key: str | None = None,
        class_names: Sequence[str] | None = None,
        num_classes: int | None = None,
        mode: Literal['patch', 'tile'] = 'patch',
        patch_size: int = 9,
        tile_size: int = 64,
        tile_stride: int | None = None,
        pad_value: float = 0.0,
        bad_bands: Sequence[BadBandSpec] | None = None,
        transforms: Callable[[Sample], Sample] | None = None,
    ) -> None:
        """Initialize a new FileScene.

        Args:
            image: The cube file.
            labels: The label map file (0 = unlabelled, 1..K classes), or None.
            wavelengths: Band centres: a text/CSV file, a sensor name, a
                classic scene's name (``'salinas'``, for a copy of its cube) or
                a list (nm, file band order); None reads them from the cube's
                metadata.
            image_key: Variable of the cube in a ``.mat`` file.
            labels_key: Variable of the label map in a ``.mat`` file
                (``'GT.gt'`` for a struct's field), or the column of class
                numbers or names of label polygons.
            test_labels: A second label map holding the test pixels that came
                with the scene (a benchmark's official split); it is merged
                into the scene's labels and :attr:`test_mask` marks its pixels.
            test_labels_key: Variable of the test map in a ``.mat`` file.
            class_names: Names of classes 1..K; labels above K are errors.
                None takes them from the label file's ENVI classification
                header when it names them (:func:`read_class_names`).
            num_classes: Number of classes K when no names are given; when
                neither is given, K is the largest label.
            mode: ``'patch'`` or ``'tile'``.
            patch_size: Odd window side in patch mode.
            tile_size: Tile side in tile mode.
            tile_stride: Step between tiles (``tile_size`` when None).
            pad_value: Image value outside the scene in border windows.
            bad_bands: Bands to leave out (0-based indices in file order or
                ``(low, high)`` nm ranges), besides those the file's ``bbl``
                flags.
            transforms: Function applied to each sample.

        Raises:
            FileNotFoundError: If a file does not exist.
            ValueError: Naming the files and values, if the cube and label map
                grids differ, labels fall outside the declared classes, the
                wavelengths do not match the bands, or a pixel is labelled in
                both ``labels`` and ``test_labels``.
        """
        self._image = Path(image)
        if self._image.suffix.lower() == '.hdr':
            data = envi_data_file(self._image)
            if data is None:
                raise FileNotFoundError(f'{self._image}: ENVI header without data')
            self._image = data
        self._labels = None if labels is None else Path(labels)
        self._test_labels = None if test_labels is None else Path(test_labels)
        if self._test_labels is not None and self._labels is None:
            msg = f'test_labels={test_labels} needs labels= (the training labels)'
            raise ValueError(msg)
        self._test_labels_key = test_labels_key
        self._source = wavelengths
        self._image_key = image_key
        self._labels_key = labels_key
        if (
            class_names is not None
            and num_classes is not None
            and len(class_names) != num_classes
        ):
            msg = (
                f'class_names has {len(class_names)} names but num_classes is '
                f'{num_classes}'
            )
            raise ValueError(msg)
        # set by the reader of a cube whose grid rasterio cannot see (EMIT)
        self._grid: tuple[Affine, CRS] | None = None
        self._declared = None if class_names is None else tuple(class_names)
        self._num_declared = num_classes
        super().__init__(
            self._image.parent,
            mode=mode,
            patch_size=patch_size,
            tile_size=tile_size,
            transforms=transforms,
            tile_stride=tile_stride,
            pad_value=pad_value,
            bad_bands=bad_bands,
        )

    # ------------------------------------------------------------- files
    @property
    def image_path(self) -> Path:
        """Path of the cube file."""
        return self._image

    @property
    def labels_path(self) -> Path:
        """Path of the label-map file (the cube when there is none)."""
        return self._labels or self._image

    @property
    def georeference(self) -> tuple[Affine, CRS] | None:
        """Transform and CRS of the cube's grid (an EMIT granule's: its GLT's)."""
        return self._grid if self._grid is not None else super().georeference

    @property
    def class_names(self) -> tuple[str, ...]:  # type: ignore[override]
        """Names of classes 1..K (declared, or ``class k`` up to the largest)."""
        return self._class_names

    def _verify(self) -> None:
        """Check that the files exist.

        Raises:
            FileNotFoundError: Naming the missing file.
        """
        for kind, path in (
            ('image', self._image),
            ('labels', self._labels),
            ('test labels', self._test_labels),
        ):
            if path is not None and not path.is_file():
                raise FileNotFoundError(f'{kind} file {path} does not exist')

    def _read_scene(
        self,
    ) -> tuple[
        npt.NDArray[np.generic], npt.NDArray[np.float64], npt.NDArray[np.generic]
    ]:
        """Read the cube, its band centres and the label map.

        Returns:
            ``(image, wavelengths, labels)`` as in the base class.

        Raises:
            ValueError: Naming the files, for unreadable files, wavelengths that
                do not match the bands, or grids that differ.
        """
        path = self._image
        suffix = path.suffix.lower()
        from_file: npt.NDArray[np.float64] | None = None
        if suffix == '.mat':
            array = load_mat_array(path, self._image_key, dtype=np.float32)
            if array.ndim != 3:
                msg = f'{path}: expected a (rows, cols, bands) cube, got {array.shape}'
                raise ValueError(msg)
            # MATLAB's (rows, cols, bands); (bands, rows, cols) when only the
            # first axis has the band count of wavelengths=
            count = self._count_hint()
            bands_first = (
                count is not None and array.shape[0] == count != array.shape[2]
            )
            image = array if bands_first else np.moveaxis(array, -1, 0)
        elif (product := product_format(path)) is not None:
            cube = product.read(path)
            image, from_file, self._file_good = cube.image, cube.wavelengths, cube.good
            if cube.transform is not None and cube.crs is not None:
                self._grid = (cube.transform, cube.crs)
        else:
            count = None
            if suffix == '.npy' and self._source is not None:
                count = self._count_hint()
            info = CubeInfo.read(path, num_bands=count)
            image = read_cube(info)
            from_file = info.wavelengths
            self._file_good = info.good
            if info.layout == 'raster':
                image = self._nodata_to_nan(image)
        file_w = resolve_wavelengths(self._source, image.shape[0], from_file, path)
        shape = image.shape[1:]
        labels = (
            np.zeros(shape, np.int64)
            if self._labels is None
            else self._read_labels(self._labels, self._labels_key, shape)
        )
        if self._test_labels is not None:
            labels = self._merge_test_labels(labels, self._test_labels)
        self._class_names = self._classes(labels)
        return image, file_w, labels

    def _count_hint(self) -> int | None:
        """Band count implied by ``wavelengths=``, to orient ``.npy`` and ``.mat`` cubes.

        Returns:
            The count, or None when it cannot be known before reading.
        """
        source = self._source
        if source is None:
            return None
        try:
            return int(read_wavelengths(source).centres.size)
        except ValueError:
            return None

    def _nodata_to_nan(self, image: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Mark the raster's nodata value as NaN (ignored by the statistics).

        Args:
            image: The cube read from the raster.

        Returns:
            The cube with nodata as NaN.
        """
        with rasterio_env(), rasterio.open(self._image) as src:
            nodata = src.nodata
        if nodata is not None and np.isfinite(nodata):
            image = np.where(image == np.float32(nodata), np.nan, image).astype(
                np.float32
            )
        return image

    def _read_labels(
        self, path: Path, key: str | None, shape: tuple[int, ...]
    ) -> npt.NDArray[np.generic]:
        """Read a label map and check its grid against the cube.

        A georeferenced label raster on another grid than a georeferenced cube
        is resampled onto the cube's (:meth:`_warp_labels`).

        Args:
            path: The label file.
            key: Its variable in a ``.mat`` file.
            shape: ``(H, W)`` of the cube.

        Returns:
            The ``(H, W)`` label map.

        Raises:
            ValueError: Naming both files and the values, if the grids differ
                and cannot be aligned (one is not georeferenced, or they do not
                overlap).
        """
        suffix = path.suffix.lower()
        if suffix in VECTOR_SUFFIXES:
            return self._rasterize(path, key, (int(shape[0]), int(shape[1])))
        gt = read_label_map(path, key)
        if self._declared is None:
            self._declared = self._header_names(path)
        image_ref, labels_ref = self.georeference, read_georeference(path)
        if (
            image_ref is not None
            and labels_ref is not None
            and (gt.shape != tuple(shape) or not _same_grid(image_ref, labels_ref))
        ):
            return self._warp_labels(path, gt, labels_ref, image_ref, shape)
        if gt.ndim != 2 or gt.shape != tuple(shape):
            msg = (
                f'label map {path} has shape {gt.shape}, but the cube {self._image} '
                f'has {tuple(shape)} (rows, cols): the grids differ'
            )
            raise ValueError(msg)
        return gt

    def _header_names(self, path: Path) -> tuple[str, ...] | None:
        """The class names of a label file's ENVI header, checked against ``num_classes``.

        Args:
            path: The label file.

        Returns:
            Names of classes 1..K, or None when the header has none.

        Raises:
            ValueError: Naming the file and both counts, if ``num_classes`` was
                given and the header names another number of classes.
        """
        names = read_class_names(path)
        if names is None or self._num_declared in (None, len(names)):
            return names
        msg = (
            f'num_classes is {self._num_declared}, but the ENVI header of {path} '
            f'names {len(names)} classes after "Unclassified" ({", ".join(names)})'
        )
        raise ValueError(msg)

    def _warp_labels(
        self,
        path: Path,
        labels: npt.NDArray[np.generic],
        source: tuple[Affine, CRS],
        target: tuple[Affine, CRS],
        shape: tuple[int, ...],
    ) -> npt.NDArray[np.int64]:
        """Resample a georeferenced label map onto the cube's grid.

        As TorchGeo aligns a label raster with its image: reprojected to the
        cube's CRS, each cube pixel taking the most common label of the label
        pixels it covers (unlabelled ones aside).

        Args:
            path: The label raster.
            labels: Its labels as read (nodata as 0).
            source: Its transform and CRS.
            target: The cube's transform and CRS.
            shape: ``(H, W)`` of the cube.

        Returns:
            The label map on the cube's grid.

        Raises:
            ValueError: Naming both files, if the labels are not whole numbers
                or do not overlap the cube.
        """
        try:
            values = as_label_map(labels).astype(np.int32)
        except ValueError as error:
            raise ValueError(f'label map {path}: {error}') from error
        warped = np.zeros((int(shape[0]), int(shape[1])), dtype=np.int32)
        rasterio.warp.reproject(
            values,
            warped,
            src_transform=source[0],
            src_crs=source[1],
            src_nodata=0,
            dst_transform=target[0],
            dst_crs=target[1],
            dst_nodata=0,
            resampling=Resampling.mode,
        )
        if not warped.any():
            msg = f'label map {path} does not overlap the cube {self._image}'
            raise ValueError(msg)
        warnings.warn(
            f'label map {path} is on another grid than the cube {self._image}: '
            "resampled onto the cube's grid (each cube pixel takes the most "
            'common label it covers)',
            UserWarning,
            stacklevel=2,
        )
        return warped.astype(np.int64)

    def _rasterize(
        self, path: Path, column: str | None, shape: tuple[int, int]
    ) -> npt.NDArray[np.int64]:
        """Burn label polygons onto the cube's grid.

        A column of class names sets the class names (in ``class_names``'
        order when given, else alphabetical).

        Args:
            path: The vector file.
            column: Its class column (``labels_key``).
            shape: ``(H, W)`` of the cube.

        Returns:
            The label map.

        Raises:
            ValueError: Naming both files, if the cube is not georeferenced, or
                as :func:`~torchgeo_spectral.datasets.vector_labels.rasterize_labels`.
        """
        georeference = self.georeference
        if georeference is None:
            msg = (
                f'label polygons {path} need a georeferenced cube, but {self._image} '
                'has no CRS or transform; rasterize them onto its grid first'
            )
            raise ValueError(msg)
        labels, names = rasterize_labels(
            path, column, shape, *georeference, self._declared
        )
        if names is not None:
            self._declared = names
        return labels

    def _merge_test_labels(
        self, labels: npt.NDArray[np.generic], path: Path
    ) -> npt.NDArray[np.generic]:
        """Add the test map's pixels to the training labels; set :attr:`test_mask`.

        Args:
            labels: The training label map.
            path: The test label file.

        Returns:
            One map of every labelled pixel, training and test.

        Raises:
            ValueError: Naming both files, if a pixel is labelled in both.
        """
        test = self._read_labels(path, self._test_labels_key, labels.shape)
        mask = np.asarray(test != 0)
        both = mask & (np.asarray(labels) != 0)
        if both.any():
            row, col = (int(v[0]) for v in np.nonzero(both))
            msg = (
                f'{int(both.sum())} pixels are labelled both in {self._labels} and '
                f'in the test labels {path} (the first at row {row}, '
                f'col {col}): a pixel cannot be a training and a test pixel'
            )
            raise ValueError(msg)
        self.test_mask = mask
        return np.where(mask, test, labels)

    def _classes(self, gt: npt.NDArray[np.generic]) -> tuple[str, ...]:
        """The class names: declared, or numbered up to the largest label.

        Args:
            gt: The label map.

        Returns:
            Names of classes 1..K.
        """
        if self._declared is not None:
            return self._declared
        if self._num_declared is not None:
            count = self._num_declared
        else:
            count = int(np.max(np.asarray(gt, dtype=np.float64))) if gt.size else 0
            absent = sorted(set(range(1, count + 1)) - set(np.unique(gt).tolist()))
            if absent:
                # numbered by the largest label, the model gets an output (and
                # the macro metrics a zero) for every gap in the numbering
                named = ', '.join(map(str, absent[:10]))
                more = f' and {len(absent) - 10} more' if len(absent) > 10 else ''
                warnings.warn(
                    f'label map {self._labels} has no pixel of classes {named}'
                    f'{more} of 1..{count} (K is its largest label): those '
                    'classes get outputs but no labels; renumber the labels 1..K '
                    f'without gaps (if {count} marks unlabelled pixels, make it 0)',
                    UserWarning,
                    stacklevel=2,
                )
        return tuple(f'class {k}' for k in range(1, count + 1))
