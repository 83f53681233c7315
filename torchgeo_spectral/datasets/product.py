"""Cubes read from sensor products (EMIT, PRISMA) and their GeoTIFF export.

Sensor products that rasterio does not read as a spectral cube (EMIT's
NetCDF-4, PRISMA's HDF-EOS5) are read by their own modules
(:mod:`~torchgeo_spectral.datasets.emit`, :mod:`~torchgeo_spectral.datasets.prisma`)
into one :class:`ProductCube`: the cube, its band table and, where the product
is on a map grid, its georeference. :func:`write_product_geotiff` writes such a
cube as the GeoTIFF the package's raster readers and ``predict-map`` take, and
:func:`geotiff_command` is the command line of each product's export.
Each product module describes its format once (:class:`ProductFormat`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from affine import Affine
from rasterio.crs import CRS

__all__ = [
    'ProductCube',
    'ProductFormat',
    'geotiff_command',
    'product_format',
    'product_formats',
    'write_product_geotiff',
]

#: Rows written at once by :func:`write_product_geotiff`.
_ROWS_PER_WRITE = 64


@dataclass(frozen=True)
class ProductCube:
    """A cube read from a sensor product, with its band table and grid.

    Attributes:
        image: ``(C, H, W)`` float32, NaN where the product has no data.
        wavelengths: Band centres in nm ``(C,)``.
        fwhm: Band widths in nm ``(C,)``.
        good: Whether each band is usable ``(C,)`` (False, e.g., for EMIT's
            water-absorption bands).
        transform: Affine transform of the map grid (pixel corners), or None
            for a product in swath geometry.
        crs: The grid's CRS, or None with ``transform``.
    """

    image: npt.NDArray[np.float32]
    wavelengths: npt.NDArray[np.float64]
    fwhm: npt.NDArray[np.float64]
    good: npt.NDArray[np.bool_]
    transform: Affine | None
    crs: CRS | None


@dataclass(frozen=True)
class ProductFormat:
    """A sensor product format that rasterio does not read as a cube.

    Each product module defines one (``EMIT``, ``PRISMA``); the readers and the
    ``*-to-geotiff`` commands look formats up here rather than by name.

    Attributes:
        name: The sensor's name, for messages (``'EMIT'``).
        command: The ``torchgeo-spectral`` command that writes it as a GeoTIFF.
        source_name: What messages call one file (``'granule'``).
        source_help: The file names the command takes, for ``--help``.
        description: What the command writes, for ``--help``.
        detect: Whether a file is of this format.
        read: Its reader.
    """

    name: str
    command: str
    source_name: str
    source_help: str
    description: str
    detect: Callable[[Path], bool]
    read: Callable[[Path], ProductCube]


def product_formats() -> tuple[ProductFormat, ...]:
    """The product formats the package reads.

    Returns:
        EMIT and PRISMA.
    """
    # the product modules import this one
    from .emit import EMIT
    from .prisma import PRISMA

    return EMIT, PRISMA


def product_format(path: str | os.PathLike[str]) -> ProductFormat | None:
    """The product format of a file: EMIT granule, PRISMA product or neither.

    Args:
        path: Any file.

    Returns:
        Its format, or None for files that are not such products.
    """
    return next((f for f in product_formats() if f.detect(Path(path))), None)


def write_product_geotiff(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    read: Callable[[Path], ProductCube],
    *,
    overwrite: bool = False,
    source_name: str = 'source',
) -> Path:
    """Write a product's cube as a GeoTIFF that rasterio readers take.

    The cube of ``read(source)`` without its bad bands, float32 with NaN as
    nodata, each band tagged with its ``wavelength`` and ``fwhm`` in nm
    (:func:`~torchgeo_spectral.datasets.io.band_table_tags`), as the package's
    raster readers expect: the file then works with
    :class:`~torchgeo_spectral.datasets.HyperspectralRaster` (a TorchGeo
    ``RasterDataset``), ``torchgeo-spectral predict-map`` and folder pretraining.
    A product in swath geometry gives a GeoTIFF without a CRS. It is written as
    ``predict-map`` writes its maps
    (:class:`~torchgeo_spectral.inference.writer.AtomicGeoTIFF`: tiled,
    compressed, under a partial name renamed when complete); a failure deletes
    the partial file. The paths are checked before the product is read.

    Args:
        source: The product file.
        output: The GeoTIFF to write.
        read: The product's reader, e.g.
            :func:`~torchgeo_spectral.datasets.read_emit`.
        overwrite: Replace an existing ``output`` (never ``source`` itself).
        source_name: What the messages call ``source`` (``'granule'``).

    Returns:
        The output path.

    Raises:
        FileExistsError: If ``output`` exists and ``overwrite`` is False.
        ValueError: If ``output`` is ``source``, or as ``read``.
        OSError: If the file cannot be written (disk full, say).
    """
    from ..inference.writer import AtomicGeoTIFF, OutputSpec, guard_outputs
    from .io import band_table_tags

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    guard_outputs({'output': output}, {source_name: source}, [output], overwrite)
    cube = read(source)
    keep = np.flatnonzero(cube.good)
    tags, descriptions = band_table_tags(cube.wavelengths[keep], cube.fwhm[keep])
    _, height, width = cube.image.shape
    spec = OutputSpec(
        height,
        width,
        int(keep.size),
        'float32',
        cube.crs,
        cube.transform if cube.transform is not None else Affine.identity(),
        nodata=float('nan'),
        descriptions=descriptions,
    )
    with AtomicGeoTIFF(
        output,
        spec,
        tags={'wavelength_units': 'nm', 'source': source.name},
        band_tags=tags,
    ) as dst:
        try:
            for start in range(0, height, _ROWS_PER_WRITE):
                dst.write(start, cube.image[keep, start : start + _ROWS_PER_WRITE])
            dst.commit()
        except BaseException:
            dst.discard()
            raise
    return output


def geotiff_command(command: str, argv: list[str]) -> int:
    """Run ``torchgeo-spectral COMMAND SOURCE OUTPUT [--overwrite]``.

    Args:
        command: A format's command, e.g. ``'emit-to-geotiff'``.
        argv: Arguments after the command.

    Returns:
        0 on success, 1 on a handled error (one line on stderr).

    Raises:
        ValueError: If no format has that command.
    """
    fmt = next((f for f in product_formats() if f.command == command), None)
    if fmt is None:
        raise ValueError(f'no product format has the command {command!r}')
    parser = argparse.ArgumentParser(
        prog=f'torchgeo-spectral {command}', description=fmt.description
    )
    parser.add_argument('source', help=fmt.source_help)
    parser.add_argument('output', help='the GeoTIFF to write')
    parser.add_argument('--overwrite', action='store_true', help='replace output')
    args = parser.parse_args(argv)
    try:
        path = write_product_geotiff(
            args.source,
            args.output,
            fmt.read,
            overwrite=args.overwrite,
            source_name=fmt.source_name,
        )
    except (OSError, ValueError, TypeError) as error:
        print(f'torchgeo-spectral {command}: error: {error}', file=sys.stderr)
        return 1
    print(path)
    return 0
