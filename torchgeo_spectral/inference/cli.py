"""``torchgeo-spectral predict-map`` and ``torchgeo-spectral embed``.

Every error ends the command with one line on stderr (``torchgeo-spectral
predict-map: error: ...``) and a non-zero exit status: 2 for a bad command line,
1 for a failed run, 130 when interrupted. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

__all__ = ['INFERENCE_COMMANDS', 'UsageError', 'build_parser', 'main']

#: Subcommands handled here rather than by TorchGeo's CLI.
INFERENCE_COMMANDS = ('predict-map', 'embed')

PROG = 'torchgeo-spectral'


class UsageError(ValueError):
    """A bad command line (unknown option, missing or malformed value)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing usage and exiting.

    So that :func:`main` reports a bad command line as one line like any other
    error.
    """

    def error(self, message: str) -> NoReturn:
        """Raise the parser's complaint.

        Args:
            message: What argparse found wrong.

        Raises:
            UsageError: Always.
        """
        raise UsageError(f'{message} (see {self.prog} --help)')


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``.

    Args:
        minimum: The smallest value accepted (1 for sizes, 0 for overlap).

    Returns:
        The parser of an option value.
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'expected an integer, found {text!r}')
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f'expected an integer >= {minimum}, found {value}'
            )
        return value

    return parse


_positive_int = _int_at_least(1)
_nonnegative_int = _int_at_least(0)


def one_line(error: BaseException) -> str:
    """An exception's message on one line (GDAL and torch messages span several).

    Args:
        error: The exception.

    Returns:
        Its message with whitespace runs collapsed, or its type name if empty.
    """
    return ' '.join(str(error).split()) or type(error).__name__


#: Errors the commands expect and explain; anything else is reported as unexpected.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, LookupError)


def _expected_errors() -> tuple[type[BaseException], ...]:
    """The expected errors, with GDAL's (raised by rasterio) when importable.

    Returns:
        Exception types reported by their message alone.
    """
    try:
        from rasterio._err import CPLE_BaseError
        from rasterio.errors import RasterioError
    except ImportError:  # pragma: no cover - rasterio is a dependency
        return EXPECTED_ERRORS
    return (*EXPECTED_ERRORS, RasterioError, CPLE_BaseError)


@contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Print warnings as one line each, ``PROG command: warning: ...``.

    Args:
        command: The subcommand.

    Yields:
        Nothing.
    """

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        text = ' '.join(str(message).split())
        print(f'{PROG} {command}: warning: {text}', file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _read_wavelengths(source: str | None) -> list[float] | None:
    """Band centres in nm from ``--wavelengths``: a file or a band table's name.

    Read by :func:`torchgeo_spectral.wavelengths.read_wavelengths`: a text/CSV
    file (one centre per line, first column, header lines skipped, or comma
    separated on one line; micrometres convert to nm, band indices and
    implausible values are errors naming the file), a sensor name (``enmap``)
    or a classic scene's name (``salinas``).

    Args:
        source: File path or name, or None.

    Returns:
        The wavelengths in nm, or None.
    """
    if source is None:
        return None
    from ..wavelengths import read_wavelengths

    centres: list[float] = read_wavelengths(source).centres.tolist()
    return centres


def _common(parser: argparse.ArgumentParser) -> None:
    """Options shared by both subcommands.

    Args:
        parser: Subcommand parser.
    """
    parser.add_argument('--checkpoint', required=True, help='task checkpoint (.ckpt)')
    parser.add_argument(
        '--task-class',
        metavar='CLASS',
        help='task class of a checkpoint trained outside `torchgeo fit` (which '
        'does not record it), e.g. SpectralSegmentationTask',
    )
    parser.add_argument('--input', required=True, help='input raster (GeoTIFF, ENVI)')
    parser.add_argument(
        '--tile-size', type=_positive_int, default=64, help='tile side (pixels)'
    )
    parser.add_argument(
        '--overlap', type=_nonnegative_int, default=16, help='tile overlap (pixels)'
    )
    parser.add_argument(
        '--batch-size', type=_positive_int, default=8, help='tiles per batch'
    )
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1, ...')
    parser.add_argument(
        '--wavelengths',
        metavar='FILE|NAME',
        help='band centres in nm or micrometers (one per line or CSV first '
        'column), a sensor (enmap) or a classic scene (salinas), when the '
        'raster does not carry them',
    )
    parser.add_argument('--overwrite', action='store_true', help='replace outputs')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument(
        '--debug', action='store_true', help='show the traceback of an error'
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of the inference subcommands.

    Returns:
        An argparse parser with ``predict-map`` and ``embed`` subcommands.
    """
    parser = _Parser(prog=PROG, description='Tiled inference over rasters.')
    sub = parser.add_subparsers(dest='command', required=True)
    pm = sub.add_parser(
        'predict-map',
        help='class map (and probabilities) of a raster from a segmentation task',
        description='Tiled, Hann-blended class map of a raster of any size, '
        'written as a tiled compressed GeoTIFF with a colour table.',
    )
    _common(pm)
    pm.add_argument('--output', required=True, help='class-map GeoTIFF')
    pm.add_argument('--probabilities', help='optional per-class probability GeoTIFF')
    pm.add_argument('--resume', action='store_true', help='continue an interrupted run')
    em = sub.add_parser(
        'embed',
        help='encoder embeddings of a raster: per patch (GeoTIFF), per tile (GeoParquet)',
        description='Per-patch encoder embeddings as a multi-band GeoTIFF at patch '
        'resolution and/or pooled per-tile embeddings as GeoParquet.',
    )
    _common(em)
    em.add_argument('--output', help='per-patch embedding GeoTIFF')
    em.add_argument('--tiles', help='per-tile embedding GeoParquet')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run an inference subcommand.

    Args:
        argv: Arguments, starting with the subcommand; ``sys.argv[1:]`` if None.

    Returns:
        Exit status: 0 on success, 1 on an error, 2 on a bad command line, 130
        when interrupted; the error is one line on stderr (``--debug``: the
        traceback is raised instead).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = args_list[0] if args_list and not args_list[0].startswith('-') else ''
    prefix = f'{PROG} {command}'.rstrip()
    try:
        args = build_parser().parse_args(args_list)
    except UsageError as err:
        print(f'{prefix}: error: {one_line(err)}', file=sys.stderr)
        return 2
    try:
        with _one_line_warnings(args.command):
            _run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        hint = ' (continue with --resume)' if args.command == 'predict-map' else ''
        print(f'{prefix}: error: interrupted{hint}', file=sys.stderr)
        return 130
    except Exception as err:
        if args.debug:
            raise
        if isinstance(err, _expected_errors()):
            message = one_line(err)
        else:
            message = (
                f'unexpected {type(err).__name__}: {one_line(err)} (rerun with '
                '--debug for the traceback)'
            )
        print(f'{prefix}: error: {message}', file=sys.stderr)
        return 1
    return 0


def _run(args: argparse.Namespace) -> None:
    """Run the parsed subcommand and print what it wrote.

    Args:
        args: Parsed arguments.
    """
    from .embed import export_embeddings
    from .predict import predict_raster

    common: dict[str, Any] = {
        'wavelengths': _read_wavelengths(args.wavelengths),
        'tile_size': args.tile_size,
        'overlap': args.overlap,
        'batch_size': args.batch_size,
        'device': args.device,
        'overwrite': args.overwrite,
        'progress': not args.no_progress,
        'task_class': args.task_class,
    }
    if args.command == 'predict-map':
        result = predict_raster(
            args.checkpoint,
            args.input,
            args.output,
            probabilities=args.probabilities,
            resume=args.resume,
            **common,
        )
        print(
            f'wrote {result.output}'
            + (f' and {result.probabilities}' if result.probabilities else '')
            + f' ({result.num_classes} classes, {result.tiles_run} tiles, '
            f'{result.seconds:.1f} s)'
        )
        return
    if args.output is None and args.tiles is None:
        raise ValueError('embed needs --output and/or --tiles')
    emb = export_embeddings(
        args.checkpoint, args.input, args.output, tiles_output=args.tiles, **common
    )
    written = [str(p) for p in (emb.raster, emb.tiles) if p is not None]
    print(
        f'wrote {" and ".join(written)} ({emb.embed_dim} dimensions, '
        f'patch {emb.patch_size}, {emb.num_tiles} tiles, {emb.seconds:.1f} s)'
    )
