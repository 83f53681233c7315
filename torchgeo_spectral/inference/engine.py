"""Streaming tiled inference: read, predict and blend tiles one strip at a time.

Three stages run concurrently:

1. a reader thread reads batches of tiles ahead of the model (GDAL releases the
   GIL while decoding), one window per run of neighbouring tiles; batches span
   tile rows, and the first batch is split in two (see :func:`batch_spans`) so
   that the model starts after a short first read;
2. the calling thread runs the model on each batch and blends every tile output,
   weighted by a Hann window, into a strip buffer of full-width output rows;
3. a writer thread turns finished rows (rows that no later tile touches) into
   output pixels and writes them as soon as they are final, in strips that never
   cross an output block boundary, so that writing overlaps the model up to the
   last tile row.

Only the rows between the last finished strip and the bottom of the current tile
row are held in memory, never the scene.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import Tensor

from .raster import TileReader
from .tiling import Tile, TileGrid, blend_weights, clip_span

__all__ = [
    'Blender',
    'ForwardFn',
    'StripSink',
    'TileCallback',
    'batch_spans',
    'run_tiled',
]

#: ``forward(x (B, C, h, w), wavelengths (C,)) -> (B, K, h', w')``.
ForwardFn = Callable[[Tensor, Tensor], Tensor]

#: ``sink(row_off, acc (K, r, W), weight (r, W), valid (r, W))``, finished rows.
StripSink = Callable[
    [int, NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_]], None
]

#: ``callback(tile, values (K, n, n), valid (n, n))``, each tile's raw output.
TileCallback = Callable[[Tile, NDArray[np.float32], NDArray[np.bool_]], None]

_STOP = object()


class Blender:
    """Weighted sums of tile outputs over a strip of full-width output rows.

    Rows above ``top`` are finished (already handed out) and ignored.

    Args:
        channels: Output channels ``K``.
        height: Output height.
        width: Output width.
        top: First output row held.
    """

    def __init__(self, channels: int, height: int, width: int, top: int = 0) -> None:
        """Initialize (see the class docstring)."""
        self.channels = channels
        self.height = height
        self.width = width
        self.top = top
        self.acc = np.zeros((channels, 0, width), dtype=np.float32)
        self.weight = np.zeros((0, width), dtype=np.float32)
        self.valid = np.zeros((0, width), dtype=bool)

    @property
    def rows_held(self) -> int:
        """Rows currently buffered."""
        return self.weight.shape[0]

    def _ensure(self, stop: int) -> None:
        """Grow the buffer down to output row ``stop`` (exclusive).

        Args:
            stop: Output row.
        """
        extra = stop - self.top - self.rows_held
        if extra > 0:
            self.acc = np.concatenate(
                [self.acc, np.zeros((self.channels, extra, self.width), np.float32)], 1
            )
            self.weight = np.concatenate(
                [self.weight, np.zeros((extra, self.width), np.float32)]
            )
            self.valid = np.concatenate(
                [self.valid, np.zeros((extra, self.width), bool)]
            )

    def add(
        self,
        row_off: int,
        col_off: int,
        values: NDArray[np.float32],
        weights: NDArray[np.float32],
        valid: NDArray[np.bool_],
    ) -> None:
        """Blend one tile output in.

        Args:
            row_off: Output row of the tile's first row (may be negative).
            col_off: Output column of the tile's first column (may be negative).
            values: Tile output (K, n, n).
            weights: Blending weights (n, n).
            valid: Validity (n, n).
        """
        n = values.shape[1]
        r0, r1, s0, s1 = clip_span(row_off, row_off + n, self.height)
        if r0 < self.top:
            s0 += self.top - r0
            r0 = self.top
        c0, c1, t0, t1 = clip_span(col_off, col_off + n, self.width)
        if r1 <= r0 or c1 <= c0:
            return
        self._ensure(r1)
        w = weights[s0:s1, t0:t1]
        b0, b1 = r0 - self.top, r1 - self.top
        self.acc[:, b0:b1, c0:c1] += values[:, s0:s1, t0:t1] * w
        self.weight[b0:b1, c0:c1] += w
        self.valid[b0:b1, c0:c1] |= valid[s0:s1, t0:t1]

    def pop(
        self, stop: int
    ) -> tuple[int, NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_]]:
        """Hand out rows ``[top, stop)`` and drop them from the buffer.

        Args:
            stop: One past the last finished output row.

        Returns:
            ``(row_off, acc, weight, valid)`` of the finished rows.
        """
        self._ensure(stop)
        n = stop - self.top
        out = (self.top, self.acc[:, :n], self.weight[:n], self.valid[:n])
        self.acc = self.acc[:, n:].copy()
        self.weight = self.weight[n:].copy()
        self.valid = self.valid[n:].copy()
        self.top = stop
        return out


@dataclass
class _Batch:
    """A batch of tiles read ahead of the model."""

    tiles: list[Tile]
    images: NDArray[np.float32]
    valid: NDArray[np.bool_]


class _Worker(threading.Thread):
    """A daemon thread that remembers the first exception it raised."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._fn()
        except BaseException as err:  # noqa: BLE001 (re-raised by the caller)
            self.error = err


def batch_spans(num_tiles: int, batch_size: int) -> list[tuple[int, int]]:
    """Tile index ranges of the model calls: a short first call, then full ones.

    The first ``batch_size`` tiles are split into a quarter and the rest, so that
    the model starts after reading a quarter of a batch and the rest is read
    while it runs; every later call holds ``batch_size`` tiles. The split depends
    only on the grid, so a resumed run (which restarts at a multiple of
    ``batch_size``) makes the same calls as an uninterrupted one.

    Args:
        num_tiles: Tiles in the grid.
        batch_size: Tiles per model call.

    Returns:
        ``[(start, stop), ...]`` covering ``range(num_tiles)`` in order.
    """
    starts = [0]
    head = max(1, batch_size // 4)
    if head < batch_size:
        starts.append(head)
    starts.extend(range(batch_size, num_tiles, batch_size))
    starts = [i for i in starts if i < num_tiles]
    return [(a, b) for a, b in zip(starts, [*starts[1:], num_tiles], strict=True)]


def _put(out: queue.Queue[Any], item: Any, give_up: Callable[[], bool]) -> bool:
    """Put ``item`` on a bounded queue, waiting while it is full.

    A thread that feeds a queue must not block forever on it: the consumer may
    have stopped (an error, an interrupted run). The wait is therefore cut into
    short timeouts, after each of which ``give_up`` says whether to drop the item.

    Args:
        out: The queue.
        item: What to put.
        give_up: Returns True when the consumer is gone.

    Returns:
        True if the item was queued, False if ``give_up`` said to stop first.
    """
    while not give_up():
        try:
            out.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _prefetch(
    reader: TileReader,
    tiles: Sequence[Tile],
    spans: Sequence[tuple[int, int]],
    depth: int,
) -> Generator[_Batch]:
    """Read batches of tiles in a background thread.

    The thread starts reading when this generator is created (not at the first
    ``next``), so that the first read overlaps the caller's remaining setup.

    Args:
        reader: Tile reader (used only by the background thread).
        tiles: Tiles to read, in order.
        spans: ``(start, stop)`` indices into ``tiles`` of each batch.
        depth: Batches read ahead.

    Returns:
        A generator of the batches, in order.
    """
    out: queue.Queue[Any] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def produce() -> None:
        try:
            for a, b in spans:
                chunk = list(tiles[a:b])
                if not _put(out, _Batch(chunk, *reader.read_batch(chunk)), stop.is_set):
                    return
        finally:
            reader.close()
            _put(out, _STOP, stop.is_set)

    worker = _Worker(produce, 'tile-reader')
    worker.start()

    def consume() -> Generator[_Batch]:
        try:
            while True:
                item = out.get()
                if item is _STOP:
                    break
                yield item
            worker.join()
            if worker.error is not None:
                raise worker.error
        finally:
            stop.set()
            worker.join()

    return consume()


class _Writer:
    """Runs a :data:`StripSink` on finished strips in a background thread."""

    def __init__(self, sink: StripSink, depth: int = 2) -> None:
        self._sink = sink
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._thread = _Worker(self._loop, 'tile-writer')
        self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._thread.error is None:
                self._sink(*item)

    def check(self) -> None:
        """Re-raise an error of the writer thread in the calling thread."""
        if self._thread.error is not None:
            raise self._thread.error

    def put(
        self,
        strip: tuple[int, NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_]],
    ) -> None:
        """Queue a finished strip for writing.

        Args:
            strip: ``(row_off, acc, weight, valid)``.
        """
        self.check()
        if not _put(self._queue, strip, lambda: not self._thread.is_alive()):
            self.check()
            raise RuntimeError('the tile writer thread stopped before the last strip')

    def close(self) -> None:
        """Write what is queued, stop the thread and re-raise its error, if any."""
        _put(self._queue, _STOP, lambda: not self._thread.is_alive())
        self._thread.join()
        self.check()


def _resize(out: Tensor, size: int) -> Tensor:
    """Bring a dense output to ``size`` x ``size`` (bilinear) if needed.

    Args:
        out: Output (B, K, h, w).
        size: Wanted side.

    Returns:
        Output (B, K, size, size).

    Raises:
        ValueError: If the output is not 4-D.
    """
    if out.ndim != 4:
        raise ValueError(
            f'the model must return a dense (B, K, H, W) output, got shape '
            f'{tuple(out.shape)}'
        )
    if out.shape[-2:] != (size, size):
        out = F.interpolate(
            out, size=(size, size), mode='bilinear', align_corners=False
        )
    return out


def run_tiled(
    reader: TileReader,
    grid: TileGrid,
    forward: ForwardFn,
    wavelengths: Sequence[float],
    sink: StripSink,
    *,
    unit: int = 1,
    start_row: int = 0,
    batch_size: int = 8,
    device: str | torch.device = 'cpu',
    block_rows: int = 256,
    on_tile: TileCallback | None = None,
    progress: bool = True,
    desc: str = 'tiles',
    prefetch: int = 2,
) -> int:
    """Predict every tile of ``grid``, blend and hand out finished blocks of rows.

    Args:
        reader: Reads the input tiles.
        grid: Tile grid over the input raster.
        forward: The model: ``(B, C, s, s), (C,) -> (B, K, h, w)``; outputs that are
            not ``s / unit`` on a side are resized bilinearly.
        wavelengths: Band centres (nm) of the input.
        sink: Receives finished output rows, in order, in a writer thread.
        unit: Output cell size in input pixels (1 or the model's patch size).
        start_row: Output rows above this are already done (resume): tiles that do
            not reach below it are skipped.
        batch_size: Tiles per model call.
        device: Device of the model.
        block_rows: Block height of the output: the strips handed to ``sink``
            never cross a multiple of it (they end on one, or at the end of the
            output), so the sink can flush whole blocks.
        on_tile: Optional callback receiving each tile's raw output.
        progress: Show a tqdm progress bar.
        desc: Progress bar label.
        prefetch: Batches read ahead.

    Returns:
        The number of tiles run through the model.
    """
    from tqdm.auto import tqdm

    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1 (tiles per batch), got {batch_size}')
    height = math.ceil(grid.height / unit)
    width = math.ceil(grid.width / unit)
    n = grid.tile_size // unit
    if start_row >= height:
        return 0
    # Restart on the batch boundary of an uninterrupted run, so that a resumed run
    # sees the same batches and produces bit-identical outputs.
    first = grid.first_tile_touching(start_row * unit)
    first = (first // batch_size) * batch_size
    tiles = grid.tiles[first:]
    spans = [
        (a - first, b - first)
        for a, b in batch_spans(len(grid), batch_size)
        if a >= first
    ]
    # start reading first: the first batch is read while the rest is set up
    batches = _prefetch(reader, tiles, spans, prefetch)
    weights: dict[tuple[bool, bool, bool, bool], NDArray[np.float32]] = {}
    blender: Blender | None = None
    writer: _Writer | None = None
    bar = tqdm(total=len(tiles), desc=desc, unit='tile', disable=not progress)
    done = 0
    try:
        last_in_row = {grid.row(r)[-1].index: r for r in range(grid.n_rows)}
        wl = torch.as_tensor(list(wavelengths), dtype=torch.float32, device=device)
        writer = _Writer(sink)
        for batch in batches:
            x = torch.from_numpy(batch.images).to(device)
            with torch.inference_mode():
                out = _resize(forward(x, wl), n).float().cpu().numpy()
            valid = batch.valid
            if unit > 1:
                b = valid.shape[0]
                valid = valid.reshape(b, n, unit, n, unit).any(axis=(2, 4))
            if blender is None:
                blender = Blender(out.shape[1], height, width, top=start_row)
            for i, tile in enumerate(batch.tiles):
                key = (
                    tile.grid_row > 0,
                    tile.grid_row < grid.n_rows - 1,
                    tile.grid_col > 0,
                    tile.grid_col < grid.n_cols - 1,
                )
                if key not in weights:
                    weights[key] = blend_weights(tile, grid, unit)
                if on_tile is not None:
                    on_tile(tile, out[i], valid[i])
                blender.add(
                    tile.row_off // unit,
                    tile.col_off // unit,
                    out[i],
                    weights[key],
                    valid[i],
                )
                if tile.index in last_in_row:
                    final = grid.rows_final_after(last_in_row[tile.index])
                    final_out = height if final >= grid.height else final // unit
                    while blender.top < final_out:
                        boundary = (blender.top // block_rows + 1) * block_rows
                        writer.put(blender.pop(min(boundary, final_out)))
            done += len(batch.tiles)
            bar.update(len(batch.tiles))
    finally:
        batches.close()
        bar.close()
        if writer is not None:
            writer.close()
    return done
