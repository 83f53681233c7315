"""``torchgeo-spectral predict-map`` and ``torchgeo-spectral embed``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ['INFERENCE_COMMANDS', 'build_parser', 'main']

#: Subcommands handled here rather than by TorchGeo's CLI.
INFERENCE_COMMANDS = ('predict-map', 'embed')


def _read_wavelengths(path: str | None) -> list[float] | None:
    """Read band centres from a text/CSV file, converted to nm.

    Read by :func:`torchgeo_spectral.wavelengths.read_wavelengths`: one centre per
    line (first column; header lines skipped) or comma separated on one line;
    micrometres convert to nm, band indices and implausible values are errors
    naming the file.

    Args:
        path: File path, or None.

    Returns:
        The wavelengths in nm, or None.
    """
    if path is None:
        return None
    from ..wavelengths import read_wavelengths

    centres: list[float] = read_wavelengths(Path(path)).centres.tolist()
    return centres


def _common(parser: argparse.ArgumentParser) -> None:
    """Options shared by both subcommands.

    Args:
        parser: Subcommand parser.
    """
    parser.add_argument('--checkpoint', required=True, help='task checkpoint (.ckpt)')
    parser.add_argument('--input', required=True, help='input raster (GeoTIFF, ENVI)')
    parser.add_argument('--tile-size', type=int, default=64, help='tile side (pixels)')
    parser.add_argument('--overlap', type=int, default=16, help='tile overlap (pixels)')
    parser.add_argument('--batch-size', type=int, default=8, help='tiles per batch')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1, ...')
    parser.add_argument(
        '--wavelengths',
        metavar='FILE',
        help='band centres in nm or micrometers (one per line or CSV first '
        'column), when the raster does not carry them',
    )
    parser.add_argument('--overwrite', action='store_true', help='replace outputs')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')


def build_parser() -> argparse.ArgumentParser:
    """The parser of the inference subcommands.

    Returns:
        An argparse parser with ``predict-map`` and ``embed`` subcommands.
    """
    parser = argparse.ArgumentParser(
        prog='torchgeo-spectral', description='Tiled inference over rasters.'
    )
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
        Exit status: 0 on success, 1 on a handled error (message on stderr).
    """
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from .embed import export_embeddings
    from .predict import predict_raster

    try:
        common: dict[str, Any] = {
            'wavelengths': _read_wavelengths(args.wavelengths),
            'tile_size': args.tile_size,
            'overlap': args.overlap,
            'batch_size': args.batch_size,
            'device': args.device,
            'overwrite': args.overwrite,
            'progress': not args.no_progress,
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
        else:
            if args.output is None and args.tiles is None:
                raise ValueError('embed needs --output and/or --tiles')
            emb = export_embeddings(
                args.checkpoint,
                args.input,
                args.output,
                tiles_output=args.tiles,
                **common,
            )
            written = [str(p) for p in (emb.raster, emb.tiles) if p is not None]
            print(
                f'wrote {" and ".join(written)} ({emb.embed_dim} dimensions, '
                f'patch {emb.patch_size}, {emb.num_tiles} tiles, {emb.seconds:.1f} s)'
            )
    except (OSError, ValueError) as err:
        print(f'torchgeo-spectral {args.command}: error: {err}', file=sys.stderr)
        return 1
    return 0
