"""Reading PRISMA products (HDF-EOS5 ``.he5``): the hyperspectral cube and its bands.

ASI's PRISMA imaging spectrometer (239 bands, about 400-2500 nm, 30 m)
delivers each product as one HDF-EOS5 file (``PRS_L1_STD_*.he5``,
``PRS_L2B_STD_*``, ``PRS_L2C_STD_*``, ``PRS_L2D_STD_*``). The hyperspectral
cube is split in two: ``HDFEOS/SWATHS/PRS_<level>_HCO/Data Fields/VNIR_Cube``
and ``.../SWIR_Cube``, each ``uint16`` laid out ``(rows, bands, columns)``.
The root attributes carry the band table and the scaling:

* ``List_Cw_Vnir``/``List_Cw_Swir`` (band centres in nm, the VNIR list in
  descending order, 0 for a slot without a band),
  ``List_Fwhm_Vnir``/``List_Fwhm_Swir`` and
  ``List_Cw_Vnir_Flags``/``List_Cw_Swir_Flags`` (1 for a band that is present);
* L2 (surface reflectance, L2B/C/D): ``L2ScaleVnirMin``/``L2ScaleVnirMax``
  (and ``Swir``), reflectance ``min + DN * (max - min) / 65535``;
* L1 (top-of-atmosphere radiance): ``ScaleFactor_Vnir``/``Offset_Vnir`` (and
  ``Swir``), radiance ``DN / scale - offset``;
* L2D only, the map grid: ``Epsg_Code`` and the corner coordinates
  ``Product_ULcorner_easting``/``_northing`` and ``Product_LRcorner_...``,
  which name the *centres* of the corner pixels.

:func:`read_prisma` joins the two cubes into one ``(bands, rows, columns)``
float32 cube, bands present only and sorted by wavelength (the detectors
overlap around 920-1010 nm; both keep their bands), with NaN where a pixel's
digital numbers are 0 in every band (the fill around the swath). Only L2D is
on a map grid; the other levels are in swath geometry, so their label maps
must be on the file's own pixel grid. The layout and the corner convention
are those of the PRISMA product specification as public readers apply it
(for example ``prismaread`` and HyperCoast); no PRISMA file ships with the
tests, which write files in that layout.

``torchgeo-spectral prisma-to-geotiff`` (from Python,
``write_product_geotiff(product, output, read_prisma)`` of
:mod:`~torchgeo_spectral.datasets.product`) writes the cube as a GeoTIFF for
the readers that go through rasterio.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import numpy.typing as npt
from affine import Affine
from rasterio.crs import CRS

from .product import ProductCube, ProductFormat

__all__ = ['PRISMA', 'is_prisma', 'read_prisma']

#: The two detectors of the hyperspectral cube, in wavelength order.
_DETECTORS = ('Vnir', 'Swir')

#: Largest digital number of the ``uint16`` cubes (the L2 scaling's range).
_DN_MAX = 65535.0

#: Rows of each detector read and scaled at once (bounds the extra memory).
_ROWS_PER_BLOCK = 64


def _hco_swath(f: h5py.File) -> str | None:
    """Path of the hyperspectral cube's swath (``PRS_*_HCO``) in an open file.

    Args:
        f: The open file.

    Returns:
        ``'HDFEOS/SWATHS/PRS_<level>_HCO'``, or None if there is none.
    """
    swaths = f.get('HDFEOS/SWATHS')
    if not isinstance(swaths, h5py.Group):
        return None
    names = sorted(n for n in swaths if n.startswith('PRS_') and n.endswith('_HCO'))
    return f'HDFEOS/SWATHS/{names[0]}' if names else None


def is_prisma(path: str | os.PathLike[str]) -> bool:
    """Whether a file is a PRISMA product with a hyperspectral cube.

    Args:
        path: Any file.

    Returns:
        True for an HDF5 file with a ``HDFEOS/SWATHS/PRS_*_HCO`` swath.
    """
    path = Path(path)
    if not path.is_file() or not h5py.is_hdf5(path):
        return False
    with h5py.File(path, 'r') as f:
        return _hco_swath(f) is not None


def _attribute(f: h5py.File, name: str, path: Path) -> npt.NDArray[np.float64]:
    """A numeric root attribute as a flat array, or an error naming it.

    Args:
        f: The open file.
        name: The attribute, e.g. ``'List_Cw_Vnir'``.
        path: The file, for the message.

    Returns:
        Its values.

    Raises:
        ValueError: If the file lacks it or it is not numeric.
    """
    if name not in f.attrs:
        msg = f'{path}: a PRISMA product needs the attribute {name!r}, which this file lacks'
        raise ValueError(msg)
    try:
        return np.asarray(f.attrs[name], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        msg = f'{path}: the attribute {name!r} is not numeric ({f.attrs[name]!r})'
        raise ValueError(msg) from err


def _band_table(
    f: h5py.File, detector: str, bands: int, path: Path
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The present bands of one detector: cube indices, centres and widths.

    Args:
        f: The open file.
        detector: ``'Vnir'`` or ``'Swir'``.
        bands: Bands of that detector's cube.
        path: The file, for messages.

    Returns:
        ``(indices, wavelengths, fwhm)`` of the bands flagged present (all
        with a centre above 0 when the file has no flags).

    Raises:
        ValueError: If a list's length is not ``bands``.
    """
    centres = _attribute(f, f'List_Cw_{detector}', path)
    widths = _attribute(f, f'List_Fwhm_{detector}', path)
    flag_name = f'List_Cw_{detector}_Flags'
    flags = _attribute(f, flag_name, path) if flag_name in f.attrs else np.ones(bands)
    sizes = [centres.size, widths.size, flags.size]
    if sizes != [bands] * 3:
        msg = (
            f'{path}: the {detector.upper()} cube has {bands} bands but its band '
            f'table has {sizes[0]} centres, {sizes[1]} FWHM and {sizes[2]} flags'
        )
        raise ValueError(msg)
    indices = np.flatnonzero((flags == 1) & (centres > 0))
    return indices, centres[indices], widths[indices]


def _scaling(
    f: h5py.File, level: str, detector: str, path: Path
) -> tuple[float, float]:
    """Factor and offset that turn a detector's digital numbers into values.

    Args:
        f: The open file.
        level: The swath's level, e.g. ``'L2D'`` or ``'L1'``.
        detector: ``'Vnir'`` or ``'Swir'``.
        path: The file, for messages.

    Returns:
        ``(factor, offset)``: value ``DN * factor + offset``.
    """
    if level.startswith('L2'):
        low = float(_attribute(f, f'L2Scale{detector}Min', path)[0])
        high = float(_attribute(f, f'L2Scale{detector}Max', path)[0])
        return (high - low) / _DN_MAX, low
    scale = float(_attribute(f, f'ScaleFactor_{detector}', path)[0])
    offset = float(_attribute(f, f'Offset_{detector}', path)[0])
    if scale == 0:
        msg = f'{path}: ScaleFactor_{detector} is 0'
        raise ValueError(msg)
    return 1.0 / scale, -offset


def _grid(f: h5py.File, rows: int, cols: int, path: Path) -> tuple[Affine, CRS]:
    """The L2D map grid from the EPSG code and the corner pixels' centres.

    Args:
        f: The open file.
        rows: Rows of the cube.
        cols: Columns of the cube.
        path: The file, for messages.

    Returns:
        The transform (pixel corners) and CRS.

    Raises:
        ValueError: If an attribute is missing or the corners do not span a
            north-up grid of that size.
    """
    epsg = int(_attribute(f, 'Epsg_Code', path)[0])
    west, north, east, south = (
        float(_attribute(f, f'Product_{corner}corner_{axis}', path)[0])
        for corner, axis in (
            ('UL', 'easting'),
            ('UL', 'northing'),
            ('LR', 'easting'),
            ('LR', 'northing'),
        )
    )
    width = (east - west) / max(cols - 1, 1)
    height = (north - south) / max(rows - 1, 1)
    if width <= 0 or height <= 0:
        msg = (
            f'{path}: the corners (upper left {west}, {north}; lower right {east}, '
            f'{south}) do not span a north-up grid of {rows} x {cols} pixels'
        )
        raise ValueError(msg)
    transform = Affine(width, 0.0, west - width / 2, 0.0, -height, north + height / 2)
    return transform, CRS.from_epsg(epsg)


def read_prisma(path: str | os.PathLike[str]) -> ProductCube:
    """Read a PRISMA product's hyperspectral cube (VNIR and SWIR joined).

    The two cubes are read a block of rows at a time and scaled to
    reflectance (L2) or radiance (L1, W m-2 sr-1 um-1); bands not flagged
    present are left out and the rest sorted by wavelength. Everything is
    checked before the cubes are read.

    Args:
        path: A ``PRS_L1_STD_*``, ``PRS_L2B/C/D_STD_*`` ``.he5`` file.

    Returns:
        The cube ``(bands, rows, columns)``, NaN where every digital number
        of a pixel is 0, its band table (every band good) and, for L2D, the
        map grid (None otherwise).

    Raises:
        ValueError: Naming the file and what is wrong: no hyperspectral swath,
            a missing cube, attribute or band table, or cubes whose sizes
            disagree.
    """
    path = Path(path)
    with h5py.File(path, 'r') as f:
        swath = _hco_swath(f)
        if swath is None:
            msg = (
                f'{path}: no PRISMA hyperspectral swath HDFEOS/SWATHS/PRS_*_HCO '
                '(a panchromatic-only file has no spectra to classify)'
            )
            raise ValueError(msg)
        level = swath.rsplit('/', 1)[1].split('_')[1]  # PRS_L2D_HCO -> L2D
        cubes = []
        for detector in _DETECTORS:
            name = f'{swath}/Data Fields/{detector.upper()}_Cube'
            cube = f.get(name)
            if not isinstance(cube, h5py.Dataset) or cube.ndim != 3:
                found = 'missing' if cube is None else getattr(cube, 'shape', 'a group')
                msg = f'{path}: {name} should be a (rows, bands, columns) cube, found {found}'
                raise ValueError(msg)
            cubes.append(cube)
        (rows, _, cols), other = cubes[0].shape, cubes[1].shape
        if (other[0], other[2]) != (rows, cols):
            msg = (
                f'{path}: the VNIR cube is {rows} x {cols} pixels but the SWIR cube '
                f'{other[0]} x {other[2]}'
            )
            raise ValueError(msg)
        tables = [
            _band_table(f, detector, cube.shape[1], path)
            for detector, cube in zip(_DETECTORS, cubes, strict=True)
        ]
        scalings = [_scaling(f, level, detector, path) for detector in _DETECTORS]
        grid = _grid(f, rows, cols, path) if level == 'L2D' else None
        wavelengths = np.concatenate([table[1] for table in tables])
        fwhm = np.concatenate([table[2] for table in tables])
        if wavelengths.size == 0:
            raise ValueError(f'{path}: no band is flagged present')
        order = np.argsort(wavelengths, kind='stable')
        image = np.empty((wavelengths.size, rows, cols), dtype=np.float32)
        no_data = np.ones((rows, cols), dtype=bool)
        # where each detector's bands land in the sorted cube
        slots = np.argsort(order)
        first = 0
        for cube, (indices, _, _), (factor, offset) in zip(
            cubes, tables, scalings, strict=True
        ):
            target = slots[first : first + indices.size]
            first += indices.size
            for start in range(0, rows, _ROWS_PER_BLOCK):
                block = np.asarray(cube[start : start + _ROWS_PER_BLOCK])
                no_data[start : start + block.shape[0]] &= (block == 0).all(axis=1)
                values = block[:, indices].astype(np.float32) * np.float32(factor)
                image[target, start : start + block.shape[0]] = (
                    values + np.float32(offset)
                ).transpose(1, 0, 2)
    image[:, no_data] = np.nan
    transform, crs = grid if grid is not None else (None, None)
    return ProductCube(
        image,
        wavelengths[order],
        fwhm[order],
        np.ones(wavelengths.size, dtype=bool),
        transform,
        crs,
    )


#: The PRISMA format: detection, reader and the ``prisma-to-geotiff`` command.
PRISMA = ProductFormat(
    name='PRISMA',
    command='prisma-to-geotiff',
    source_name='product',
    source_help='PRS_L2D_STD_*.he5 (or L1, L2B, L2C)',
    description=(
        'Write the hyperspectral cube of a PRISMA product (HDF-EOS5) as a '
        'GeoTIFF: VNIR and SWIR joined, present bands sorted by wavelength, '
        'wavelengths and FWHM in the band tags; georeferenced for L2D.'
    ),
    detect=is_prisma,
    read=read_prisma,
)
