"""Reading EMIT granules (NetCDF-4), orthorectified with their geometry lookup table.

NASA's EMIT imaging spectrometer (ISS, 285 bands, 381-2493 nm, 60 m) delivers
its L2A surface reflectance (``EMIT_L2A_RFL_*.nc``) and L1B radiance
(``EMIT_L1B_RAD_*.nc``) as NetCDF-4 files in the instrument's swath geometry:
the cube ``reflectance`` (or ``radiance``) is ``(downtrack, crosstrack,
bands)`` with ``-9999`` where there is no data, the group
``sensor_band_parameters`` holds ``wavelengths``, ``fwhm`` and
``good_wavelengths`` (0 for the water-absorption bands), and the group
``location`` holds the geometry lookup table (GLT) ``glt_x``/``glt_y``: for each
pixel of a north-up lat/lon grid (the file's ``geotransform`` and
``spatial_ref`` attributes), the 1-based swath column and row it shows, 0 where
none. Applying the GLT, as NASA's EMIT-Data-Resources tools do, gives the
georeferenced cube that label polygons and maps need.

NetCDF-4 files are HDF5 files, read here with ``h5py`` (a dependency already,
for MATLAB v7.3 files). :func:`write_emit_geotiff` (``torchgeo-spectral
emit-to-geotiff``) writes the orthorectified cube as a GeoTIFF for the readers
that go through rasterio.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import numpy.typing as npt
from affine import Affine
from rasterio.crs import CRS

from .product import ProductCube, ProductFormat, write_product_geotiff

__all__ = ['EMIT', 'EmitCube', 'is_emit', 'read_emit', 'write_emit_geotiff']

#: Cube variables of the EMIT products read, in the order they are looked for.
_CUBE_VARIABLES = ('reflectance', 'radiance')

#: Swath rows read at once while the GLT is applied (bounds the extra memory).
_ROWS_PER_BLOCK = 64


#: An EMIT granule's cube: a :class:`~torchgeo_spectral.datasets.product.ProductCube`
#: on the GLT's grid (WGS 84), ``good`` from ``good_wavelengths``.
EmitCube = ProductCube


def is_emit(path: str | os.PathLike[str]) -> bool:
    """Whether a file is an EMIT granule (NetCDF-4 with its band parameters).

    Args:
        path: Any file.

    Returns:
        True for an HDF5 file with a ``sensor_band_parameters`` group.
    """
    path = Path(path)
    if not path.is_file() or not h5py.is_hdf5(path):
        return False
    with h5py.File(path, 'r') as f:
        return isinstance(f.get('sensor_band_parameters'), h5py.Group)


def _member(f: h5py.File, name: str, path: Path) -> h5py.Dataset:
    """A dataset of the granule, or an error naming what is missing.

    Args:
        f: The open file.
        name: Its path in the file, e.g. ``'location/glt_x'``.
        path: The file, for the message.

    Returns:
        The dataset.

    Raises:
        ValueError: If the file lacks it.
        TypeError: If it is a group.
    """
    if name not in f:
        msg = f'{path}: an EMIT granule needs {name!r}, which this file lacks'
        raise ValueError(msg)
    node = f[name]
    if not isinstance(node, h5py.Dataset):
        raise TypeError(f'{path}: {name!r} is a group, not an array')
    return node


def _grid(f: h5py.File, path: Path) -> tuple[Affine, CRS]:
    """The north-up grid of the granule's GLT.

    Args:
        f: The open granule.
        path: The file, for messages.

    Returns:
        Its transform (pixel corners) and CRS.

    Raises:
        ValueError: If the attributes that carry them are missing.
    """
    geotransform = f.attrs.get('geotransform')
    spatial_ref = f.attrs.get('spatial_ref')
    if geotransform is None or spatial_ref is None:
        msg = (
            f'{path}: an EMIT granule carries its grid in the attributes '
            "'geotransform' and 'spatial_ref', which this file lacks"
        )
        raise ValueError(msg)
    if isinstance(spatial_ref, bytes):
        spatial_ref = spatial_ref.decode()
    transform = Affine.from_gdal(*np.asarray(geotransform, dtype=np.float64))
    return transform, CRS.from_wkt(str(spatial_ref))


def _band_table(
    f: h5py.File, path: Path, bands: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Band centres, widths and good-band flags of the granule.

    Args:
        f: The open granule.
        path: The file, for messages.
        bands: Bands of its cube.

    Returns:
        ``(wavelengths, fwhm, good)``; every band is good without
        ``good_wavelengths``.

    Raises:
        ValueError: If the table is missing or its length is not ``bands``.
    """
    table = [
        np.asarray(_member(f, f'sensor_band_parameters/{key}', path)[()]).reshape(-1)
        for key in ('wavelengths', 'fwhm')
    ]
    good_node = f.get('sensor_band_parameters/good_wavelengths')
    good = (
        np.ones(bands) if good_node is None else np.asarray(good_node[()]).reshape(-1)
    )
    sizes = [array.size for array in (*table, good)]
    if sizes != [bands] * 3:
        msg = (
            f'{path}: the cube has {bands} bands but the band table has '
            f'{sizes[0]} wavelengths, {sizes[1]} FWHM and {sizes[2]} good flags'
        )
        raise ValueError(msg)
    return table[0].astype(np.float64), table[1].astype(np.float64), good.astype(bool)


def _orthorectify(
    swath: h5py.Dataset, glt_x: npt.NDArray[np.int64], glt_y: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Place the swath's pixels on the GLT's grid, a block of rows at a time.

    Args:
        swath: ``(rows, cols, bands)`` cube with a ``_FillValue``.
        glt_x: 1-based swath column of every grid pixel (0: none).
        glt_y: 1-based swath row of every grid pixel (0: none).

    Returns:
        ``(bands, H, W)`` float32 (a view of a pixel-major array), NaN where
        no swath pixel or the fill value lands.
    """
    rows, _, bands = swath.shape
    fill = np.float32(np.asarray(swath.attrs.get('_FillValue', -9999.0)).flat[0])
    # pixel-major, so that each swath pixel's spectrum is one contiguous write
    ortho = np.full((glt_x.size, bands), np.nan, dtype=np.float32)
    target = np.flatnonzero((glt_x > 0) & (glt_y > 0))
    source_row = glt_y.reshape(-1)[target] - 1
    source_col = glt_x.reshape(-1)[target] - 1
    for start in range(0, rows, _ROWS_PER_BLOCK):
        hit = (source_row >= start) & (source_row < start + _ROWS_PER_BLOCK)
        if not hit.any():
            continue
        block = np.asarray(swath[start : start + _ROWS_PER_BLOCK], dtype=np.float32)
        block[block == fill] = np.nan
        ortho[target[hit]] = block[source_row[hit] - start, source_col[hit]]
    return ortho.reshape(*glt_x.shape, bands).transpose(2, 0, 1)


def read_emit(path: str | os.PathLike[str]) -> EmitCube:
    """Read an EMIT granule's cube onto its GLT's north-up grid.

    The swath is read in blocks of rows, so that only the orthorectified cube
    is held whole; everything else is checked before it is read.

    Args:
        path: An ``EMIT_L2A_RFL_*.nc`` or ``EMIT_L1B_RAD_*.nc`` file.

    Returns:
        The cube, its band table and its georeference.

    Raises:
        ValueError: Naming the file and what is wrong: no cube variable, a
            missing band table, GLT or grid, sizes that disagree, or GLT
            indices outside the swath.
        TypeError: If a member that should be an array is a group.
    """
    path = Path(path)
    with h5py.File(path, 'r') as f:
        name = next((n for n in _CUBE_VARIABLES if n in f), None)
        if name is None:
            msg = (
                f'{path}: no EMIT cube variable {list(_CUBE_VARIABLES)} (found '
                f'{sorted(f)}); mask and mineral products are not cubes to classify'
            )
            raise ValueError(msg)
        swath = _member(f, name, path)
        if swath.ndim != 3:
            msg = f'{path}: {name} should be (downtrack, crosstrack, bands), got {swath.shape}'
            raise ValueError(msg)
        rows, cols, bands = swath.shape
        wavelengths, fwhm, good = _band_table(f, path, bands)
        transform, crs = _grid(f, path)
        glt_x = _member(f, 'location/glt_x', path)[()].astype(np.int64)
        glt_y = _member(f, 'location/glt_y', path)[()].astype(np.int64)
        if glt_x.shape != glt_y.shape or glt_x.ndim != 2:
            msg = f'{path}: glt_x {glt_x.shape} and glt_y {glt_y.shape} differ'
            raise ValueError(msg)
        if glt_x.max(initial=0) > cols or glt_y.max(initial=0) > rows:
            msg = (
                f'{path}: the GLT points outside the {rows} x {cols} swath '
                f'(largest row {glt_y.max()}, column {glt_x.max()}, 1-based)'
            )
            raise ValueError(msg)
        image = _orthorectify(swath, glt_x, glt_y)
    return EmitCube(image, wavelengths, fwhm, good, transform, crs)


def write_emit_geotiff(
    granule: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write an EMIT granule as a georeferenced GeoTIFF that rasterio readers take.

    The cube of :func:`read_emit` without the bands ``good_wavelengths`` flags,
    written by :func:`~torchgeo_spectral.datasets.product.write_product_geotiff`
    (float32, NaN as nodata, ``wavelength`` and ``fwhm`` band tags, under a
    partial name renamed when complete).

    Args:
        granule: The EMIT ``.nc`` file.
        output: The GeoTIFF to write.
        overwrite: Replace an existing ``output`` (never the granule itself).

    Returns:
        The output path.

    Raises:
        FileExistsError: If ``output`` exists and ``overwrite`` is False.
        ValueError: If ``output`` is the granule, or as :func:`read_emit`.
        OSError: If the file cannot be written (disk full, say).
    """
    return write_product_geotiff(
        granule, output, read_emit, overwrite=overwrite, source_name=EMIT.source_name
    )


#: The EMIT format: detection, reader and the ``emit-to-geotiff`` command.
EMIT = ProductFormat(
    name='EMIT',
    command='emit-to-geotiff',
    source_name='granule',
    source_help='EMIT_L2A_RFL_*.nc or EMIT_L1B_RAD_*.nc',
    description=(
        'Write an EMIT granule (NetCDF-4) as a georeferenced GeoTIFF: '
        'orthorectified with its geometry lookup table, without the bands '
        'good_wavelengths flags, wavelengths and FWHM in the band tags.'
    ),
    detect=is_emit,
    read=read_emit,
)
