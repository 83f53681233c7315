"""Atomic, tiled, compressed GeoTIFF outputs with a resumable progress sidecar.

Every output is written to a hidden partial file beside its final name
(``dir/.name.tif.partial``) and renamed onto the final name with :func:`os.replace`
only once complete, so an interrupted run never leaves a truncated file under the
final name. A small JSON sidecar (``dir/.name.tif.progress.json``) records how many
leading raster rows are already final on disk, the run's settings and a content
fingerprint of its input files (:func:`file_fingerprint`), so that a later run with
``resume=True`` reopens the partial file in ``r+`` mode and continues, and refuses
to when anything changed.

A failed write (disk full, I/O error) raises :class:`OutputWriteError`; the callers
then delete the partial files and set the sidecar back to zero rows, so that what it
says stays true and a resumed run starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import rasterio
from numpy.typing import NDArray
from rasterio._err import CPLE_BaseError
from rasterio.crs import CRS
from rasterio.errors import RasterioError
from rasterio.windows import Window

__all__ = [
    'AtomicGeoTIFF',
    'OutputSpec',
    'OutputWriteError',
    'ProgressFile',
    'check_distinct_paths',
    'check_output_path',
    'class_dtype',
    'default_colormap',
    'file_fingerprint',
    'guard_outputs',
    'partial_path',
]

#: Errors of GDAL, rasterio and the OS that mean an output could not be written.
WRITE_ERRORS = (OSError, RasterioError, CPLE_BaseError)

# Fingerprint: files up to this size are hashed whole, larger ones in samples.
_HASH_WHOLE_BELOW = 1 << 22
_HASH_BLOCK = 1 << 16
_HASH_SAMPLES = 32


class OutputWriteError(OSError):
    """An output file could not be written (disk full, I/O error...).

    The message names the file and the system's reason.
    """


def _write_error(path: Path, err: BaseException) -> OutputWriteError:
    """Wrap a failed write into an :class:`OutputWriteError` naming the file.

    Args:
        path: File being written.
        err: What the OS, GDAL or rasterio raised.

    Returns:
        The error to raise (``from err``).
    """
    reason = getattr(err, 'strerror', None) or ' '.join(str(err).split())
    return OutputWriteError(
        getattr(err, 'errno', None) or 0,
        f'cannot write {path}: {reason or type(err).__name__}',
    )


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Content fingerprint of a file: size, mtime and a hash of sampled blocks.

    Small files are hashed whole; larger ones in ``_HASH_SAMPLES`` blocks of 64 KiB
    spread evenly from the first byte to the last, so that rewriting any part of
    a raster of any size changes the fingerprint with high probability at the
    cost of reading 2 MiB.

    Args:
        path: The file.

    Returns:
        ``{'path', 'size', 'mtime_ns', 'sha256'}``.
    """
    stat = path.stat()
    digest = hashlib.sha256()
    with path.open('rb') as f:
        if stat.st_size <= _HASH_WHOLE_BELOW:
            digest.update(f.read())
        else:
            last = stat.st_size - _HASH_BLOCK
            for i in range(_HASH_SAMPLES):
                f.seek(last * i // (_HASH_SAMPLES - 1))
                digest.update(f.read(_HASH_BLOCK))
    return {
        'path': os.path.realpath(path),
        'size': stat.st_size,
        'mtime_ns': stat.st_mtime_ns,
        'sha256': digest.hexdigest(),
    }


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (same real path, or hard/symbolic links).

    Args:
        a: A path.
        b: Another path.

    Returns:
        True if writing ``a`` would change ``b``.
    """
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_distinct_paths(
    outputs: Mapping[str, Path | None], inputs: Mapping[str, Path | None]
) -> None:
    """Refuse, before any work, an output that is an input or another output.

    Args:
        outputs: Every file a run writes (final, partial and progress files), by
            a name used in messages.
        inputs: Every file it reads (raster, header, checkpoint), by name.

    Raises:
        ValueError: If an output is the same file as an input (the input would be
            destroyed) or as another output.
    """
    outs = [(k, v) for k, v in outputs.items() if v is not None]
    ins = [(k, v) for k, v in inputs.items() if v is not None]
    for oname, out in outs:
        for iname, src in ins:
            if _same_file(out, src):
                raise ValueError(
                    f'{oname} {out} is the {iname} {src}: refusing to write over '
                    'an input; choose another output path'
                )
    for i, (aname, a) in enumerate(outs):
        for bname, b in outs[i + 1 :]:
            if _same_file(a, b):
                raise ValueError(
                    f'{aname} {a} and {bname} {b} are the same file; give '
                    'different paths'
                )


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


def guard_outputs(
    outputs: Mapping[str, Path | None],
    inputs: Mapping[str, Path | None],
    finals: Sequence[Path | None],
    overwrite: bool,
) -> None:
    """Check every output of a run before any work: none is an input or exists.

    Args:
        outputs: Every file the run writes, by a name used in messages.
        inputs: Every file it reads, by name.
        finals: The final outputs (checked for existence and writability).
        overwrite: Replace existing final outputs.

    Raises:
        ValueError: If an output is an input or another output.
        FileExistsError: If a final output exists and ``overwrite`` is False.
        PermissionError: If an output directory is not writable.
    """
    check_distinct_paths(outputs, inputs)
    for path in finals:
        if path is not None:
            check_output_path(path, overwrite)


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


@dataclass(frozen=True)
class OutputSpec:
    """Georeferencing and layout of one output GeoTIFF.

    Attributes:
        height: Raster height in pixels.
        width: Raster width in pixels.
        count: Number of bands.
        dtype: Numpy dtype name of the bands (``uint8``, ``uint16``, ``float32``).
        crs: CRS, or None for a raster without one.
        transform: Affine transform of the raster.
        nodata: Nodata value, or None.
        descriptions: Optional band descriptions.
    """

    height: int
    width: int
    count: int
    dtype: str
    crs: CRS | None
    transform: Any
    nodata: float | None = None
    descriptions: Sequence[str] | None = None

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
            # level 1: about half the CPU time of the default (6) for a few
            # percent larger files; compression runs while the model waits
            'zlevel': 1,
            'predictor': 3 if self.dtype.startswith('float') else 2,
            'interleave': 'band' if self.count > 1 else 'pixel',
            'BIGTIFF': 'IF_SAFER',
        }
        if self.crs is not None:
            profile['crs'] = self.crs
        if self.nodata is not None:
            profile['nodata'] = self.nodata
        return profile


def _describe_change(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Say in a few words how an input file changed.

    Args:
        name: The file's role (``'input raster'``, ``'checkpoint'``).
        old: Its fingerprint when the run started.
        new: Its fingerprint now.

    Returns:
        E.g. ``'the input raster a.tif changed (size 100 -> 120 bytes)'``.
    """
    path = new.get('path', old.get('path'))
    if old.get('path') != new.get('path'):
        return f'the {name} is now {new.get("path")}, was {old.get("path")}'
    if old.get('size') != new.get('size'):
        what = f'size {old.get("size")} -> {new.get("size")} bytes'
    elif old.get('sha256') != new.get('sha256'):
        what = 'its content differs'
    else:
        what = 'it was modified (new modification time)'
    return f'the {name} {path} changed since the interrupted run ({what})'


class ProgressFile:
    """JSON sidecar recording how many leading raster rows of a job are final.

    Args:
        path: Final path of the job's main output; the sidecar lives beside it.
        settings: Every option of the run (tile size, wavelengths, model...); a
            resumed run must match them exactly.
        inputs: The files the run reads (input raster, checkpoint), by role; their
            fingerprints (:func:`file_fingerprint`) must match on resume.
    """

    VERSION = 2

    def __init__(
        self,
        path: Path,
        settings: Mapping[str, Any],
        inputs: Mapping[str, Path | None] | None = None,
    ) -> None:
        """Initialize (see the class docstring)."""
        self.path = path.with_name(f'.{path.name}.progress.json')
        self.output = path
        self.settings = json.loads(json.dumps(dict(settings)))
        self.inputs = {k: v for k, v in (inputs or {}).items() if v is not None}
        self._fingerprints: dict[str, Any] | None = None

    @property
    def tmp_path(self) -> Path:
        """Where the sidecar is written before it replaces the old one."""
        return self.path.with_name(self.path.name + '.tmp')

    def fingerprints(self) -> dict[str, Any]:
        """Fingerprints of the inputs, computed once per run.

        Returns:
            ``{role: fingerprint}``.
        """
        if self._fingerprints is None:
            self._fingerprints = {
                k: file_fingerprint(v) for k, v in self.inputs.items()
            }
        return self._fingerprints

    def load(self) -> int:
        """Rows already final according to the sidecar, after checking the run.

        Returns:
            The number of leading rows done.

        Raises:
            FileNotFoundError: If there is no sidecar to resume from.
            ValueError: If an input file changed, or the sidecar was written with
                other settings; the message is one line naming the difference.
        """
        if not self.path.exists():
            raise FileNotFoundError(
                f'nothing to resume: no progress file {self.path}; run without '
                'resume to start afresh'
            )
        afresh = 'run without --resume (and with --overwrite) to start afresh'
        try:
            state = json.loads(self.path.read_text())
            rows = int(state['rows_done'])
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f'cannot resume {self.output}: progress file {self.path} is damaged '
                f'({" ".join(str(err).split())}); {afresh}'
            ) from err
        stored = state.get('inputs') or {}
        for role, now in self.fingerprints().items():
            before = stored.get(role)
            if before is None or any(
                before.get(k) != now[k] for k in ('path', 'size', 'mtime_ns', 'sha256')
            ):
                change = (
                    _describe_change(role, before, now)
                    if before
                    else f'the {role} was not recorded'
                )
                raise ValueError(f'cannot resume {self.output}: {change}; {afresh}')
        old = state.get('settings') or {}
        if old != self.settings:
            diffs = [
                f'{key} was {old.get(key)!r}, now {self.settings.get(key)!r}'
                for key in sorted(set(old) | set(self.settings))
                if old.get(key) != self.settings.get(key)
            ]
            raise ValueError(
                f'cannot resume {self.output}: it was started with other settings '
                f'({"; ".join(diffs)}); {afresh}'
            )
        return rows

    def save(self, rows_done: int) -> None:
        """Record progress atomically (write a temporary file, then rename).

        Args:
            rows_done: Number of leading rows that are final on disk.

        Raises:
            OutputWriteError: If the sidecar cannot be written; the previous one
                (still true: fewer rows) is kept.
        """
        tmp = self.tmp_path
        state = {
            'version': self.VERSION,
            'rows_done': rows_done,
            'settings': self.settings,
            'inputs': self.fingerprints(),
        }
        try:
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.path)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise _write_error(self.path, err) from err

    def reset(self) -> None:
        """After a failed write: record zero rows done (the partials are gone).

        If even that cannot be written, the sidecar is removed, so that it never
        claims rows that are not on disk.
        """
        try:
            self.save(0)
        except OutputWriteError:
            self.path.unlink(missing_ok=True)

    def remove(self) -> None:
        """Delete the sidecar (after a successful run)."""
        self.path.unlink(missing_ok=True)
        self.tmp_path.unlink(missing_ok=True)


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
        band_tags: Metadata tags of each band (e.g. its ``wavelength``).
    """

    def __init__(
        self,
        path: Path,
        spec: OutputSpec,
        resume: bool = False,
        colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
        tags: Mapping[str, str] | None = None,
        band_tags: Sequence[Mapping[str, str]] = (),
    ) -> None:
        """Initialize (see the class docstring)."""
        self.path = path
        self.partial = partial_path(path)
        self.spec = spec
        self.resume = resume
        self.colormap = colormap
        self.tags = dict(tags or {})
        self.band_tags = band_tags
        self._dst: Any = None

    def __enter__(self) -> Self:
        """Open the partial file for writing.

        Returns:
            This writer.

        Raises:
            FileNotFoundError: If resuming and the partial file is missing.
            ValueError: If resuming and the partial file's layout differs.
            OutputWriteError: If the file cannot be created.
        """
        try:
            if self.resume:
                self._reopen()
            else:
                self._create()
        except WRITE_ERRORS as err:
            if isinstance(err, FileNotFoundError | OutputWriteError):
                raise
            self.__exit__(None, None, None)
            raise _write_error(self.partial, err) from err
        return self

    def _reopen(self) -> None:
        """Reopen the partial file of an interrupted run (``r+``), check its shape.

        Raises:
            FileNotFoundError: If the partial file is missing.
            ValueError: If its height, width or band count differ from the spec.
        """
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
                f'cannot resume {self.partial}: shape {found} differs from {expected}'
            )

    def _create(self) -> None:
        """Create the partial file afresh, with colour table, descriptions and tags."""
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
        for i, band in enumerate(self.band_tags, start=1):
            self._dst.update_tags(i, **band)

    def write(self, row_off: int, data: NDArray[Any]) -> None:
        """Write full-width rows starting at ``row_off``.

        Args:
            row_off: First raster row.
            data: Array of shape (count, rows, width).
        """
        window = Window(0, row_off, data.shape[2], data.shape[1])
        try:
            self._dst.write(data.astype(self.spec.dtype, copy=False), window=window)
        except WRITE_ERRORS as err:
            raise _write_error(self.partial, err) from err

    def flush(self) -> None:
        """Push written blocks to disk (GDAL cache flush), e.g. before a checkpoint.

        Raises:
            OutputWriteError: If GDAL cannot write the blocks.
        """
        try:
            self._dst.close()
            self._dst = rasterio.open(self.partial, 'r+')
        except WRITE_ERRORS as err:
            self._dst = None
            raise _write_error(self.partial, err) from err

    def close(self) -> None:
        """Close the partial file, writing what GDAL still caches.

        Raises:
            OutputWriteError: If GDAL cannot write the last blocks.
        """
        dst, self._dst = self._dst, None
        if dst is not None:
            try:
                dst.close()
            except WRITE_ERRORS as err:
                raise _write_error(self.partial, err) from err

    def commit(self) -> None:
        """Close the partial file and move it onto the final name.

        Raises:
            OutputWriteError: If the file cannot be completed or renamed.
        """
        self.close()
        try:
            os.replace(self.partial, self.path)
        except OSError as err:
            raise _write_error(self.path, err) from err

    def discard(self) -> None:
        """Close and delete the partial file (after a failed write)."""
        with contextlib.suppress(OutputWriteError):  # deleted anyway
            self.close()
        self.partial.unlink(missing_ok=True)

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
        dst, self._dst = self._dst, None
        if dst is not None:
            try:
                dst.close()
            except WRITE_ERRORS:
                if exc is None:
                    raise


def class_dtype(num_classes: int) -> str:
    """Smallest unsigned dtype name that holds ``num_classes`` class values.

    Args:
        num_classes: Number of classes.

    Returns:
        ``'uint8'`` up to 255 classes (255 is kept for nodata), else ``'uint16'``.
    """
    return 'uint8' if num_classes <= 255 else 'uint16'
