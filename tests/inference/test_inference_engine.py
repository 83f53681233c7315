"""The threads of the tiled engine: bounded queues and early reading."""

import queue
import threading
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from torchgeo_spectral.inference.engine import _prefetch, _put
from torchgeo_spectral.inference.raster import TileReader
from torchgeo_spectral.inference.tiling import Tile, make_grid


def test_put_waits_then_gives_up_when_the_consumer_is_gone() -> None:
    out: queue.Queue[int] = queue.Queue(maxsize=1)
    assert _put(out, 1, lambda: False)
    checks: list[int] = []

    def gone() -> bool:  # the consumer disappears after two timeouts
        checks.append(1)
        return len(checks) > 2

    assert not _put(out, 2, gone)
    assert out.get_nowait() == 1
    assert out.empty()


class _FakeReader(TileReader):
    """Returns zeros and records when it is first asked for tiles."""

    def __init__(self) -> None:
        super().__init__(path=None, nodata=None)  # type: ignore[arg-type]
        self.started = threading.Event()
        self.closed = False

    def read_batch(
        self, tiles: Sequence[Tile]
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        self.started.set()
        n = tiles[0].size
        return np.zeros((len(tiles), 1, n, n), np.float32), np.ones(
            (len(tiles), n, n), bool
        )

    def close(self) -> None:
        self.closed = True


def test_prefetch_reads_before_the_first_batch_is_asked_for() -> None:
    """The first read overlaps the caller's setup, not its first ``next``."""
    grid = make_grid(8, 8, 4, 0)
    reader = _FakeReader()
    batches = _prefetch(reader, grid.tiles, [(0, 2), (2, 4)], depth=2)
    assert reader.started.wait(5.0)
    got = [len(b.tiles) for b in batches]
    assert got == [2, 2]
    assert reader.closed


def test_prefetch_stops_its_thread_when_closed_early() -> None:
    grid = make_grid(16, 16, 4, 0)
    reader = _FakeReader()
    spans = [(i, i + 1) for i in range(len(grid))]
    batches = _prefetch(reader, grid.tiles, spans, depth=1)
    next(batches)
    batches.close()  # the reader thread must not block on the full queue
    assert reader.closed
    assert not any(t.name == 'tile-reader' for t in threading.enumerate())
