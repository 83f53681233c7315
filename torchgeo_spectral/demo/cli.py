"""``torchgeo-spectral demo``: command-line entry of the demo."""

import argparse
import logging
import warnings
from collections.abc import Sequence
from dataclasses import fields
from typing import get_args, get_type_hints

from ..main import LIGHTNING_LEAFSPEC_WARNING
from .pipeline import DemoConfig, encoder_arguments, run_demo


def build_parser() -> argparse.ArgumentParser:
    """Argument parser with one option per :class:`DemoConfig` field.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog='torchgeo-spectral demo',
        description=(
            'Fine-tune the pretrained spectral checkpoint with a few labels on a '
            'realistic synthetic EnMAP scene of library spectra; compare it with '
            'the same model from random init and a random forest; write a class '
            'map GeoTIFF and a figure.'
        ),
    )
    hints = get_type_hints(DemoConfig)
    for field in fields(DemoConfig):
        flag = '--' + field.name.replace('_', '-')
        default = field.default
        if isinstance(default, bool):
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=f'(default: {default})',
            )
            continue
        parser.add_argument(
            flag,
            type=type(default),
            default=default,
            # a Literal field accepts only its values
            choices=get_args(hints[field.name]) or None,
            help=f'(default: {default})',
        )
    return parser


def quiet_lightning() -> None:
    """Keep the demo's output to its own lines.

    Lightning's informational messages (accelerators, seeds) go below the
    WARNING level, and the warnings that every small CPU run raises and that
    say nothing about the user's setup (few data-loader workers, a short
    epoch, no validation blocks) are ignored.
    """
    for name in ('lightning.pytorch', 'lightning.fabric'):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings('ignore', message='.*does not have many workers')
    warnings.filterwarnings('ignore', message='.*smaller than the logging interval')
    warnings.filterwarnings('ignore', message=LIGHTNING_LEAFSPEC_WARNING)
    warnings.filterwarnings('ignore', message='Total length of .* across ranks is zero')


def main(args: Sequence[str] | None = None) -> None:
    """Run the demo from command-line arguments.

    Args:
        args: Arguments (without the ``demo`` subcommand); ``sys.argv`` when None.
    """
    parser = build_parser()
    namespace = vars(parser.parse_args(args))
    try:  # unusable weights end the command with one line, before any work
        encoder_arguments(namespace['weights'])
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    quiet_lightning()
    run_demo(DemoConfig(**namespace))
