"""Georeferenced splits and class-balanced sampling for TorchGeo datasets.

Two ways to get spatially disjoint regions of interest (ROIs) for TorchGeo
samplers' ``roi`` argument:

* :func:`block_rois` needs only the raster extent and resolution: it tiles the
  extent into blocks, gives them roles and keeps a gap of ``patch_size`` pixels
  between regions of different roles.
* :func:`split_geometries` turns a label-aware :class:`SpatialSplit` of the label
  raster into polygons (the pixel footprints of each role region after the
  guard band).

In both, pixel centres of different ROIs are at least ``patch_size`` pixels apart
(Chebyshev), so patches centred inside different ROIs never overlap, and patches
lying inside different ROIs (TorchGeo's samplers) never overlap either.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import rasterio
import rasterio.features
import shapely
from affine import Affine
from numpy.typing import ArrayLike, NDArray
from shapely import Polygon
from shapely.affinity import affine_transform
from shapely.geometry.base import BaseGeometry
from torchgeo.datasets import GeoDataset
from torchgeo.samplers import SpatialSampler

from .balanced import balanced_draw
from .blocks import ROLE_NAMES, Pattern, assign_block_roles, block_grid, to_pair
from .splits import PixelIndex, SpatialSplit, as_label_map


def _north_up(transform: Affine) -> tuple[float, float]:
    """Pixel width and height of a north-up transform.

    Args:
        transform: Affine transform of a raster.

    Returns:
        ``(res_x, res_y)``, both positive.

    Raises:
        ValueError: If the transform is rotated or not north-up.
    """
    if transform.b != 0 or transform.d != 0 or transform.a <= 0 or transform.e >= 0:
        msg = f'only north-up rasters without rotation are supported, got {transform}'
        raise ValueError(msg)
    return float(transform.a), float(-transform.e)


def _to_crs(geometry: BaseGeometry, transform: Affine) -> BaseGeometry:
    """Map a geometry from pixel (col, row) coordinates to the raster's CRS."""
    matrix = [transform.a, transform.b, transform.d, transform.e]
    return affine_transform(geometry, [*matrix, transform.c, transform.f])


def block_rois(
    bounds: tuple[float, float, float, float],
    res: float | tuple[float, float],
    patch_size: int,
    block_size: int | tuple[int, int],
    *,
    test_fraction: float = 0.3,
    pattern: Pattern = 'random',
    val_fraction: float = 0.0,
    seed: int | None = 0,
) -> dict[str, BaseGeometry]:
    """Spatially disjoint train/val/test ROIs over a raster extent.

    The extent is tiled into ``block_size``-pixel blocks (anchored at the top-left
    corner); blocks get roles as in :func:`spatial_block_split` (by area, since
    no labels are given) and every role region loses a band of
    ``patch_size / 2`` pixels along its borders with other roles, leaving a gap of
    ``patch_size`` pixels between ROIs.

    Args:
        bounds: ``(xmin, ymin, xmax, ymax)`` of the raster in its CRS.
        res: Pixel size ``res`` or ``(res_x, res_y)`` in CRS units.
        patch_size: Patch side in pixels.
        block_size: Block side (or height and width) in pixels.
        test_fraction: Target fraction of the area in test blocks (``'random'``).
        pattern: ``'random'`` or ``'checkerboard'``.
        val_fraction: Fraction of the non-test area moved to validation blocks.
        seed: Seed of the block assignment.

    Returns:
        ``{'train': ..., 'test': ...}`` (and ``'val'`` when asked) shapely
        geometries in the raster's CRS, for a sampler's ``roi``.

    Raises:
        ValueError: If an argument is invalid or a role ends up empty.
    """
    res_x, res_y = (res, res) if isinstance(res, int | float) else res
    xmin, ymin, xmax, ymax = bounds
    width = int(np.ceil((xmax - xmin) / res_x - 1e-9))
    height = int(np.ceil((ymax - ymin) / res_y - 1e-9))
    if width < 1 or height < 1:
        msg = f'bounds {bounds} hold no pixel at resolution {res}'
        raise ValueError(msg)
    blocks = to_pair(block_size, 'block_size')
    grid = block_grid((height, width), blocks)
    by, bx = np.divmod(np.arange(grid[0] * grid[1]), grid[1])
    area = (np.minimum((by + 1) * blocks[0], height) - by * blocks[0]) * (
        np.minimum((bx + 1) * blocks[1], width) - bx * blocks[1]
    )
    roles = assign_block_roles(
        area[:, None].astype(np.int64),
        grid,
        pattern=pattern,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        rng=np.random.default_rng(seed),
    ).reshape(-1)
    extent = shapely.box(0, 0, width, height)
    unions = {
        role: shapely.union_all(
            shapely.box(
                bx[roles == role] * blocks[1],
                by[roles == role] * blocks[0],
                (bx[roles == role] + 1) * blocks[1],
                (by[roles == role] + 1) * blocks[0],
            )
        )
        for role in ROLE_NAMES
    }
    transform = Affine(res_x, 0, xmin, 0, -res_y, ymax)
    out: dict[str, BaseGeometry] = {}
    for role, name in ROLE_NAMES.items():
        if name == 'val' and val_fraction <= 0:
            continue
        others = shapely.union_all([g for r, g in unions.items() if r != role])
        guard = others.buffer(patch_size / 2, cap_style='square', join_style='mitre')
        kept = unions[role].difference(guard).intersection(extent)
        if kept.is_empty:
            msg = (
                f'the {patch_size}-pixel gap leaves an empty {name} ROI; use larger '
                'blocks or a smaller patch_size'
            )
            raise ValueError(msg)
        out[name] = _to_crs(kept, transform)
    return out


def split_geometries(split: SpatialSplit, transform: Affine) -> dict[str, BaseGeometry]:
    """Polygons of the role regions of a split of a label raster.

    Args:
        split: A split of the label raster (see :func:`spatial_block_split`).
        transform: Affine transform of the label raster (``src.transform``).

    Returns:
        ``{'train': ..., 'val': ..., 'test': ...}`` geometries in the raster's CRS
        covering the footprints of the pixels of each region (guard excluded;
        empty roles give empty geometries).
    """
    out: dict[str, BaseGeometry] = {}
    for role, name in ROLE_NAMES.items():
        mask = split.region == role
        shapes = [
            shapely.geometry.shape(geometry)
            for geometry, _ in rasterio.features.shapes(
                mask.astype(np.uint8), mask=mask, transform=transform
            )
        ]
        out[name] = shapely.union_all(shapes) if shapes else Polygon()
    return out


def read_label_raster(
    path: str | os.PathLike[str], band: int = 1
) -> tuple[NDArray[np.int64], Affine]:
    """Read a label raster as an int64 map and its transform.

    Nodata pixels become 0 (unlabelled).

    Args:
        path: Label GeoTIFF (or any rasterio-readable file).
        band: Band to read (1-based).

    Returns:
        ``(labels, transform)``.
    """
    with rasterio.open(path) as src:
        data = src.read(band, masked=True)
        transform = src.transform
    return as_label_map(np.ma.filled(data, 0)), transform


class ClassBalancedGeoSampler(SpatialSampler):
    """Patches centred on labelled pixels of a label raster, balanced by class.

    Every yielded patch is ``size x size`` label-raster pixels, aligned to the
    label raster's grid and centred on a labelled pixel (for even ``size`` the
    centre pixel sits just below and right of the patch centre). Classes are
    drawn equally often; rare classes repeat. Candidate pixels are the labelled
    pixels (or ``pixels``, e.g. ``split.train``) whose centre lies inside the
    dataset footprint and ``roi``, and whose patch lies inside the dataset bounds.
    The label raster must share the dataset's CRS.
    """

    strategy = 'random'

    def __init__(
        self,
        dataset: GeoDataset,
        *,
        labels: ArrayLike | str | os.PathLike[str],
        size: int,
        transform: Affine | None = None,
        pixels: PixelIndex | None = None,
        length: int | None = None,
        roi: Polygon | None = None,
        seed: int | None = None,
    ) -> None:
        """Initialise a new ClassBalancedGeoSampler.

        Args:
            dataset: Dataset to sample from.
            labels: ``(H, W)`` label map (``0`` = unlabelled) or the path of a
                label raster.
            size: Patch side in label-raster pixels.
            transform: Affine transform of the label map (read from the file when
                ``labels`` is a path).
            pixels: Restrict centres to these ``(rows, cols)``, e.g. the
                ``train`` pixels of a :class:`SpatialSplit`.
            length: Patches per epoch (defaults to the number of candidates).
            roi: Region of interest that must contain the patch centres.
            seed: Seed of the generator.

        Raises:
            ValueError: If the transform is missing or rotated, or no labelled
                pixel can serve as a patch centre.
        """
        super().__init__(dataset, roi=roi)
        if isinstance(labels, str | os.PathLike):
            label_map, transform = read_label_raster(labels)
        else:
            if transform is None:
                msg = 'transform is required when labels is an array'
                raise ValueError(msg)
            label_map = as_label_map(labels)
        res_x, res_y = _north_up(transform)
        rows, cols = np.nonzero(label_map) if pixels is None else pixels
        rows, cols = np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
        classes = label_map[rows, cols]
        rows, cols, classes = rows[classes > 0], cols[classes > 0], classes[classes > 0]
        x0 = transform.c + (cols - size // 2) * res_x
        y1 = transform.f - (rows - size // 2) * res_y
        x1, y0 = x0 + size * res_x, y1 - size * res_y
        cx = transform.c + (cols + 0.5) * res_x
        cy = transform.f - (rows + 0.5) * res_y
        bxmin, bymin, bxmax, bymax = self.bounds
        tol = 1e-6 * max(res_x, res_y)
        inside = (
            shapely.contains_xy(self.geometry, cx, cy)
            & (x0 >= bxmin - tol)
            & (x1 <= bxmax + tol)
            & (y0 >= bymin - tol)
            & (y1 <= bymax + tol)
        )
        if not inside.any():
            msg = 'no labelled pixel can centre a patch inside the dataset and roi'
            raise ValueError(msg)
        self.boxes: NDArray[np.float64] = np.stack(
            [x0[inside], x1[inside], y0[inside], y1[inside]], axis=1
        )
        self.classes: NDArray[np.int64] = classes[inside]
        self.size = size
        self._length = int(length) if length is not None else int(inside.sum())
        self.generator = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[tuple[slice, slice]]:
        """Yield the patches of one epoch.

        Yields:
            ``[xmin:xmax, ymin:ymax]`` coordinates to index a dataset.
        """
        for index in balanced_draw(self.classes, self._length, self.generator):
            xmin, xmax, ymin, ymax = self.boxes[index].tolist()
            yield slice(xmin, xmax), slice(ymin, ymax)

    def __len__(self) -> int:
        """Patches per epoch.

        Returns:
            The sampler length.
        """
        return self._length


__all__ = [
    'ClassBalancedGeoSampler',
    'block_rois',
    'read_label_raster',
    'split_geometries',
]
