"""Tile grids over a raster and the Hann blending weights of each tile.

The grid comes from TorchGeo's :class:`~torchgeo.samplers.GriddedPatchSampler`, run
on the raster's footprint in *pixel* (or patch) units rather than in CRS units: the
tiles are then exact pixel windows whatever the raster's CRS (or lack of one) and
orientation, and their layout is TorchGeo's (equal spacing, the grid centred on the
raster so that the margin outside it is split between both sides).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from geopandas import GeoDataFrame
from numpy.typing import NDArray
from torchgeo.datasets import GeoDataset
from torchgeo.samplers import GriddedPatchSampler, Units

__all__ = [
    'Tile',
    'TileGrid',
    'blend_weights',
    'check_tiling',
    'clip_span',
    'hann_1d',
    'make_grid',
]


@dataclass(frozen=True)
class Tile:
    """One tile of a grid, in pixels of the raster (may extend past its edges).

    Attributes:
        index: Position of the tile in the grid's processing order.
        grid_row: Row of the tile in the grid (0 = top).
        grid_col: Column of the tile in the grid (0 = left).
        row_off: First raster row of the tile (may be negative).
        col_off: First raster column of the tile (may be negative).
        size: Height and width of the tile in pixels.
    """

    index: int
    grid_row: int
    grid_col: int
    row_off: int
    col_off: int
    size: int

    @property
    def row_end(self) -> int:
        """One past the last raster row of the tile."""
        return self.row_off + self.size

    @property
    def col_end(self) -> int:
        """One past the last raster column of the tile."""
        return self.col_off + self.size


@dataclass(frozen=True)
class TileGrid:
    """A grid of overlapping square tiles over a ``height`` x ``width`` raster.

    Attributes:
        height: Raster height in pixels.
        width: Raster width in pixels.
        tile_size: Tile height and width in pixels.
        stride: Distance between neighbouring tiles in pixels.
        tiles: Tiles in row-major order (top row first, left to right).
    """

    height: int
    width: int
    tile_size: int
    stride: int
    tiles: tuple[Tile, ...]

    @property
    def overlap(self) -> int:
        """Pixels shared by two neighbouring tiles."""
        return self.tile_size - self.stride

    @property
    def n_rows(self) -> int:
        """Number of tile rows."""
        return 1 + max(t.grid_row for t in self.tiles)

    @property
    def n_cols(self) -> int:
        """Number of tile columns."""
        return 1 + max(t.grid_col for t in self.tiles)

    def __len__(self) -> int:
        """Number of tiles."""
        return len(self.tiles)

    def __iter__(self) -> Iterator[Tile]:
        """Iterate over the tiles in processing order."""
        return iter(self.tiles)

    def row(self, grid_row: int) -> list[Tile]:
        """Tiles of one grid row, left to right.

        Args:
            grid_row: Grid row index.

        Returns:
            The tiles of that row.
        """
        return [t for t in self.tiles if t.grid_row == grid_row]

    def first_tile_touching(self, raster_row: int) -> int:
        """Index of the first tile whose window reaches raster row ``raster_row``.

        Args:
            raster_row: A raster row.

        Returns:
            The smallest tile index with ``row_end > raster_row``, or ``len(self)``.
        """
        for tile in self.tiles:
            if tile.row_end > raster_row:
                return tile.index
        return len(self.tiles)

    def rows_final_after(self, grid_row: int) -> int:
        """Raster rows that no tile after grid row ``grid_row`` touches.

        Args:
            grid_row: A grid row.

        Returns:
            The number of leading raster rows whose value is final once every tile
            up to and including ``grid_row`` has been blended.
        """
        if grid_row + 1 >= self.n_rows:
            return self.height
        nxt = self.row(grid_row + 1)[0]
        return max(0, min(self.height, nxt.row_off))


class _Footprint(GeoDataset):
    """A raster footprint in pixel units, only for driving TorchGeo's samplers."""

    def __init__(self, height: int, width: int) -> None:
        """Initialize the footprint.

        Args:
            height: Raster height in pixels (or patches).
            width: Raster width in pixels (or patches).
        """
        interval = pd.Interval(pd.Timestamp.min, pd.Timestamp.max, closed='both')
        index = pd.IntervalIndex([interval], name='datetime')
        geometry = [shapely.box(0, 0, width, height)]
        self.index = GeoDataFrame(index=index, geometry=geometry, crs=None)
        self._res = (1.0, 1.0)

    def __getitem__(self, index: Any) -> dict[str, Any]:
        """Not readable: the footprint only shapes a sampler.

        Args:
            index: Ignored.

        Raises:
            NotImplementedError: Always.
        """
        raise NotImplementedError('a footprint has no pixels')


def check_tiling(
    tile_size: int, overlap: int, batch_size: int = 1, unit: int = 1
) -> None:
    """Check tiling options before any work (they are also checked by the grid).

    Args:
        tile_size: Tile side in pixels.
        overlap: Pixels shared by neighbouring tiles.
        batch_size: Tiles per model call.
        unit: Grid unit in pixels (a model's patch size).

    Raises:
        ValueError: If a value is out of range, naming it and what was expected.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1 (tiles per batch), got {batch_size}')
    if unit <= 0 or tile_size <= 0:
        raise ValueError(f'tile_size ({tile_size}) and unit ({unit}) must be > 0')
    if not 0 <= overlap < tile_size:
        raise ValueError(
            f'overlap must be in [0, tile_size): got {overlap} for tile size '
            f'{tile_size}'
        )
    if tile_size % unit or overlap % unit:
        raise ValueError(
            f'tile_size ({tile_size}) and overlap ({overlap}) must be multiples of '
            f'the model patch size ({unit})'
        )


def make_grid(
    height: int, width: int, tile_size: int, overlap: int, unit: int = 1
) -> TileGrid:
    """Lay out overlapping tiles over a raster with TorchGeo's gridded sampler.

    Args:
        height: Raster height in pixels.
        width: Raster width in pixels.
        tile_size: Tile side in pixels; a multiple of ``unit``.
        overlap: Pixels shared by neighbouring tiles, ``0 <= overlap < tile_size``;
            a multiple of ``unit``.
        unit: Grid unit in pixels (a model's patch size): every tile offset is a
            multiple of it, so tiles share one patch grid (needed to blend
            patch-resolution outputs such as embeddings).

    Returns:
        The grid, tiles in row-major order.

    Raises:
        ValueError: If the sizes are not positive or not multiples of ``unit``.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f'empty raster ({height} x {width} pixels)')
    check_tiling(tile_size, overlap, unit=unit)
    size, stride = tile_size // unit, (tile_size - overlap) // unit
    footprint = _Footprint(math.ceil(height / unit), math.ceil(width / unit))
    sampler = GriddedPatchSampler(
        footprint, size=size, stride=stride, units=Units.PIXELS
    )
    offsets = sorted(
        {(round(y.start) * unit, round(x.start) * unit) for x, y in sampler}
    )
    row_offs = sorted({r for r, _ in offsets})
    col_offs = sorted({c for _, c in offsets})
    tiles = tuple(
        Tile(
            index=i,
            grid_row=row_offs.index(r),
            grid_col=col_offs.index(c),
            row_off=r,
            col_off=c,
            size=tile_size,
        )
        for i, (r, c) in enumerate(offsets)
    )
    return TileGrid(height, width, tile_size, tile_size - overlap, tiles)


def hann_1d(
    size: int, taper_start: bool = True, taper_end: bool = True
) -> NDArray[np.float64]:
    """A 1-D Hann window that never reaches zero, optionally flat at either end.

    The weight of sample ``i`` is ``sin^2(pi (i + 0.5) / size)``: symmetric, largest
    in the middle, small but positive at the ends. An end that lies on the raster's
    border (no neighbouring tile to blend with) is left flat at the peak value so
    that border pixels keep full confidence.

    Args:
        size: Window length.
        taper_start: Taper the start (a neighbour precedes this tile).
        taper_end: Taper the end (a neighbour follows this tile).

    Returns:
        The weights, shape (size,).
    """
    i = np.arange(size, dtype=np.float64)
    w = np.sin(np.pi * (i + 0.5) / size) ** 2
    peak = int(np.argmax(w))
    if not taper_start:
        w[:peak] = w[peak]
    if not taper_end:
        w[peak:] = w[peak]
    return w


def blend_weights(tile: Tile, grid: TileGrid, unit: int = 1) -> NDArray[np.float32]:
    """2-D blending weights of a tile: the outer product of two Hann windows.

    Sides of the tile on the border of the grid stay flat (see :func:`hann_1d`).

    Args:
        tile: The tile.
        grid: Its grid.
        unit: Resolution of the weights in pixels (1: one weight per pixel;
            a patch size: one weight per patch).

    Returns:
        Weights of shape (tile.size // unit, tile.size // unit).
    """
    n = tile.size // unit
    wy = hann_1d(n, tile.grid_row > 0, tile.grid_row < grid.n_rows - 1)
    wx = hann_1d(n, tile.grid_col > 0, tile.grid_col < grid.n_cols - 1)
    return np.outer(wy, wx).astype(np.float32)


def clip_span(start: int, stop: int, limit: int) -> tuple[int, int, int, int]:
    """Clip ``[start, stop)`` to ``[0, limit)``.

    Args:
        start: Span start (may be negative).
        stop: Span end (may exceed ``limit``).
        limit: Length of the valid range.

    Returns:
        ``(dst_start, dst_stop, src_start, src_stop)``: the clipped span and the
        matching offsets inside the original span.
    """
    lo, hi = max(start, 0), min(stop, limit)
    return lo, hi, lo - start, hi - start
