"""Label maps drawn as polygons: a vector file rasterized onto a cube's grid.

Field campaigns often deliver their labels as polygons (a GeoPackage or a
shapefile with a class column) rather than as a raster on the image's grid.
:func:`rasterize_labels` burns them onto the grid of a georeferenced cube, in
the cube's CRS, so that :class:`~torchgeo_spectral.datasets.FileScene` takes
them like a label raster.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import geopandas
import numpy as np
import numpy.typing as npt
import pandas as pd
import rasterio.features
from affine import Affine
from rasterio.crs import CRS

__all__ = ['VECTOR_SUFFIXES', 'rasterize_labels']

#: Label files read as polygons.
VECTOR_SUFFIXES = ('.gpkg', '.shp', '.geojson', '.json', '.fgb')


def rasterize_labels(
    path: str | os.PathLike[str],
    column: str | None,
    shape: tuple[int, int],
    transform: Affine,
    crs: CRS,
    class_names: Sequence[str] | None = None,
) -> tuple[npt.NDArray[np.int64], tuple[str, ...] | None]:
    """Burn labelled polygons onto a raster grid.

    A pixel takes the class of the polygon that covers its centre (of the last
    one, where polygons overlap); other pixels are 0 (unlabelled). A column of
    whole numbers gives the classes 1..K as they are; a column of names gives
    them in the order of ``class_names``, or in alphabetical order.

    Args:
        path: The vector file.
        column: The column holding the class numbers or names.
        shape: ``(rows, cols)`` of the grid.
        transform: The grid's affine transform.
        crs: The grid's CRS; the polygons are reprojected to it.
        class_names: Order of named classes (1..K), or None.

    Returns:
        ``(labels, names)``: the ``(rows, cols)`` label map, and the class
        names of a named column (None for numbers).

    Raises:
        ValueError: Naming the file, if it cannot be read, has no CRS, the
            column is missing or holds other values, or no polygon covers a
            pixel centre.
    """
    path = Path(path)
    try:
        frame = geopandas.read_file(path)
    except Exception as error:  # pyogrio's errors have no common base
        raise ValueError(f'{path}: not a readable vector file ({error})') from error
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    if column is None or column not in frame.columns:
        named = 'no column given' if column is None else f'no column {column!r}'
        msg = (
            f'{path}: {named}; name the column of class numbers or names with '
            f'labels_key (columns: {columns})'
        )
        raise ValueError(msg)
    if frame.crs is None:
        raise ValueError(f'{path}: the polygons have no CRS; set one (EPSG code)')
    frame = frame.to_crs(crs)
    codes, names = _class_codes(path, frame[column], class_names)
    shapes = [
        (geometry, code)
        for geometry, code in zip(frame.geometry, codes, strict=True)
        if geometry is not None and not geometry.is_empty and code > 0
    ]
    labels = (
        rasterio.features.rasterize(
            shapes, out_shape=shape, transform=transform, fill=0, dtype='int32'
        )
        if shapes
        else np.zeros(shape, dtype=np.int32)
    )
    if not labels.any():
        msg = (
            f'{path}: no polygon covers a pixel centre of the cube; check that '
            'they overlap it (extent and CRS)'
        )
        raise ValueError(msg)
    return labels.astype(np.int64), names


def _class_codes(
    path: Path, values: pd.Series, class_names: Sequence[str] | None
) -> tuple[npt.NDArray[np.int64], tuple[str, ...] | None]:
    """Class numbers of the polygons from their column.

    Args:
        path: The vector file, for messages.
        values: The class column.
        class_names: Order of named classes, or None for alphabetical.

    Returns:
        One code per polygon (0 for a missing value), and the names of a named
        column.

    Raises:
        ValueError: If numbers are not whole and >= 0, or a name is not in
            ``class_names``.
    """
    present = values.dropna()
    if pd.api.types.is_numeric_dtype(values):
        numbers = present.to_numpy(dtype=np.float64)
        if (numbers < 0).any() or not np.array_equal(numbers, np.round(numbers)):
            msg = f'{path}: class numbers must be whole numbers >= 1'
            raise ValueError(msg)
        return values.fillna(0).to_numpy(dtype=np.int64), None
    found = sorted({str(v) for v in present})
    names = tuple(class_names) if class_names is not None else tuple(found)
    unknown = sorted(set(found) - set(names))
    if unknown:
        msg = f'{path}: classes {unknown} are not among the class names {list(names)}'
        raise ValueError(msg)
    index = {name: code for code, name in enumerate(names, start=1)}
    codes = [0 if pd.isna(v) else index[str(v)] for v in values]
    return np.asarray(codes, dtype=np.int64), names
