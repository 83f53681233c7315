"""Atomic, tiled, compressed GeoTIFF outputs with a resumable progress sidecar.

Every output is written to a hidden partial file beside its final name
(``dir/.name.tif.partial``) and renamed onto the final name with :func:`os.replace`
only once complete, so an interrupted run never leaves a truncated file under the
final name. A small JSON sidecar (``dir/.name.tif.progress.json``) records how many
leading raster rows are already final, and the run's settings, so that a later run
with ``resume=True`` reopens the partial file in ``r+`` mode and continues.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import rasterio
from numpy.typing import NDArray
from rasterio.crs import CRS
from rasterio.windows import Window

__all__ = [
    'AtomicGeoTIFF',
    'OutputSpec',
    'ProgressFile',
    'check_output_path',
    'class_dtype',
    'default_colormap',
    'partial_path',
]

#: Block (internal tile) size of every GeoTIFF written here.
BLOCK_SIZE = 256

# A qualitative palette (Tableau 20 without greys), repeated for more classes.
_PALETTE = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (219, 219, 141),
    (158, 218, 229),
]


def default_colormap(num_classes: int) -> dict[int, tuple[int, int, int, int]]:
    """A colour table for a class map (GDAL palette: value -> RGBA).

    Args:
        num_classes: Number of classes (values ``0 .. num_classes - 1``).

    Returns:
        One opaque colour per class value.
    """
    return {k: (*_PALETTE[k % len(_PALETTE)], 255) for k in range(max(num_classes, 1))}


def partial_path(path: Path) -> Path:
    """Where an output is written before it is complete.

    Args:
        path: Final output path.

    Returns:
        ``path.parent / ('.' + path.name + '.partial')``.
    """
    return path.with_name(f'.{path.name}.partial')


def check_output_path(path: Path, overwrite: bool = False) -> None:
    """Fail early, before any work, if ``path`` cannot be written.

    Args:
        path: Final output path.
        overwrite: Allow replacing an existing file.

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is False.
        IsADirectoryError: If ``path`` is a directory.
        FileNotFoundError: If the parent directory does not exist.
        PermissionError: If the parent directory is not writable.
    """
    if path.is_dir():
        raise IsADirectoryError(f'output path {path} is a directory')
    if path.exists() and not overwrite:
        raise FileExistsError(
            f'output {path} already exists; pass overwrite=True (--overwrite) to '
            'replace it'
        )
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(f'output directory {parent} does not exist')
    try:
        fd, probe = tempfile.mkstemp(prefix='.write-test-', dir=parent)
    except OSError as err:
        raise PermissionError(
            f'cannot write to output directory {parent}: {err.strerror}'
        ) from err
    os.close(fd)
    os.unlink(probe)


class OutputSpec:
    """Georeferencing and layout of one output GeoTIFF.

    Args:
        height: Raster height in pixels.
        width: Raster width in pixels.
        count: Number of bands.
        dtype: Numpy dtype name of the bands (``uint8``, ``uint16``, ``float32``).
        crs: CRS, or None for a raster without one.
        transform: Affine transform of the raster.
        nodata: Nodata value, or None.
        descriptions: Optional band descriptions.
    """

    def __init__(
        self,
        height: int,
        width: int,
        count: int,
        dtype: str,
        crs: CRS | None,
        transform: Any,
        nodata: float | None = None,
        descriptions: Sequence[str] | None = None,
    ) -> None:
        """Initialize the spec (see the class docstring)."""
        self.height = height
        self.width = width
        self.count = count
        self.dtype = dtype
        self.crs = crs
        self.transform = transform
        self.nodata = nodata
        self.descriptions = list(descriptions) if descriptions else None

    def profile(self) -> dict[str, Any]:
        """Rasterio creation profile: tiled, deflate-compressed GeoTIFF.

        Returns:
            Keyword arguments for :func:`rasterio.open` in write mode.
        """
        block = BLOCK_SIZE
        profile: dict[str, Any] = {
            'driver': 'GTiff',
            'height': self.height,
            'width': self.width,
            'count': self.count,
            'dtype': self.dtype,
            'transform': self.transform,
            'tiled': True,
            'blockxsize': block,
            'blockysize': block,
            'compress': 'deflate',
            'predictor': 3 if self.dtype.startswith('float') else 2,
            'interleave': 'band' if self.count > 1 else 'pixel',
            'BIGTIFF': 'IF_SAFER',
        }
        if self.crs is not None:
            profile['crs'] = self.crs
        if self.nodata is not None:
            profile['nodata'] = self.nodata
        return profile


class ProgressFile:
    """JSON sidecar recording how many leading raster rows of a job are final.

    Args:
        path: Final path of the job's main output; the sidecar lives beside it.
        settings: Settings of the run (tile size, input, model ...); a resumed run
            must match them exactly.
    """

    def __init__(self, path: Path, settings: Mapping[str, Any]) -> None:
        """Initialize (see the class docstring)."""
        self.path = path.with_name(f'.{path.name}.progress.json')
        self.settings = json.loads(json.dumps(dict(settings)))

    def load(self) -> int:
        """Rows already final according to the sidecar.

        Returns:
            The number of leading rows done.

        Raises:
            FileNotFoundError: If there is no sidecar to resume from.
            ValueError: If the sidecar was written with other settings.
        """
        if not self.path.exists():
            raise FileNotFoundError(
                f'nothing to resume: no progress file {self.path}; run without '
                'resume to start afresh'
            )
        state = json.loads(self.path.read_text())
        if state.get('settings') != self.settings:
            raise ValueError(
                f'cannot resume: {self.path} was written with other settings '
                f'({state.get("settings")}); expected {self.settings}. Run without '
                'resume (and with overwrite) to start afresh'
            )
        return int(state['rows_done'])

    def save(self, rows_done: int) -> None:
        """Record progress atomically.

        Args:
            rows_done: Number of leading rows that are final on disk.
        """
        tmp = self.path.with_name(self.path.name + '.tmp')
        tmp.write_text(json.dumps({'rows_done': rows_done, 'settings': self.settings}))
        os.replace(tmp, self.path)

    def remove(self) -> None:
        """Delete the sidecar (after a successful run)."""
        self.path.unlink(missing_ok=True)


class AtomicGeoTIFF:
    """A GeoTIFF written under a partial name and renamed when complete.

    Use as a context manager; call :meth:`commit` once every block is written. If
    the block exits without a commit (an exception), the partial file stays for
    ``resume`` and nothing appears under the final name.

    Args:
        path: Final output path.
        spec: Georeferencing and layout.
        resume: Reopen an existing partial file (``r+``) instead of creating one.
        colormap: Colour table for band 1 (single-band integer outputs only).
        tags: Dataset-level metadata tags.
    """

    def __init__(
        self,
        path: Path,
        spec: OutputSpec,
        resume: bool = False,
        colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Initialize (see the class docstring)."""
        self.path = path
        self.partial = partial_path(path)
        self.spec = spec
        self.resume = resume
        self.colormap = colormap
        self.tags = dict(tags or {})
        self._dst: Any = None

    def __enter__(self) -> Self:
        """Open the partial file for writing.

        Returns:
            This writer.

        Raises:
            FileNotFoundError: If resuming and the partial file is missing.
            ValueError: If resuming and the partial file's layout differs.
        """
        if self.resume:
            if not self.partial.exists():
                raise FileNotFoundError(
                    f'nothing to resume: partial output {self.partial} is missing'
                )
            self._dst = rasterio.open(self.partial, 'r+')
            found = (self._dst.height, self._dst.width, self._dst.count)
            expected = (self.spec.height, self.spec.width, self.spec.count)
            if found != expected:
                self._dst.close()
                raise ValueError(
                    f'cannot resume {self.partial}: shape {found} differs from '
                    f'{expected}'
                )
            return self
        self.partial.unlink(missing_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', rasterio.errors.NotGeoreferencedWarning)
            self._dst = rasterio.open(self.partial, 'w', **self.spec.profile())
        if self.colormap is not None:
            self._dst.write_colormap(1, dict(self.colormap))
        if self.spec.descriptions:
            for i, text in enumerate(self.spec.descriptions, start=1):
                self._dst.set_band_description(i, text)
        if self.tags:
            self._dst.update_tags(**self.tags)
        return self

    def write(self, row_off: int, data: NDArray[Any]) -> None:
        """Write full-width rows starting at ``row_off``.

        Args:
            row_off: First raster row.
            data: Array of shape (count, rows, width).
        """
        window = Window(0, row_off, data.shape[2], data.shape[1])
        self._dst.write(data.astype(self.spec.dtype, copy=False), window=window)

    def flush(self) -> None:
        """Push written blocks to disk (GDAL cache flush), e.g. before a checkpoint."""
        self._dst.close()
        self._dst = rasterio.open(self.partial, 'r+')

    def commit(self) -> None:
        """Close the partial file and move it onto the final name."""
        self._dst.close()
        self._dst = None
        os.replace(self.partial, self.path)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the partial file if still open (after an error: keep it).

        Args:
            exc_type: Exception type, if any.
            exc: Exception, if any.
            tb: Traceback, if any.
        """
        if self._dst is not None:
            self._dst.close()
            self._dst = None


def class_dtype(num_classes: int) -> str:
    """Smallest unsigned dtype name that holds ``num_classes`` class values.

    Args:
        num_classes: Number of classes.

    Returns:
        ``'uint8'`` up to 255 classes (255 is kept for nodata), else ``'uint16'``.
    """
    return 'uint8' if num_classes <= 255 else 'uint16'
