"""``torchgeo-spectral demo``: command-line entry of the demo."""

import argparse
import logging
import warnings
from collections.abc import Sequence
from dataclasses import fields

from .pipeline import DemoConfig, run_demo


def build_parser() -> argparse.ArgumentParser:
    """Argument parser with one option per :class:`DemoConfig` field.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog='torchgeo-spectral demo',
        description=(
            'Generate a synthetic EnMAP-like scene, pretrain a spectral MAE on it, '
            'fine-tune with few labels and compare with training from scratch.'
        ),
    )
    for field in fields(DemoConfig):
        flag = '--' + field.name.replace('_', '-')
        default = field.default
        parser.add_argument(
            flag, type=type(default), default=default, help=f'(default: {default})'
        )
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny scene and one epoch each: a smoke test (seconds, not minutes)',
    )
    return parser


QUICK = {
    'size': 48,
    'num_bands': 24,
    'embed_dim': 32,
    'depth': 1,
    'num_heads': 2,
    'pretrain_chips': 32,
    'pretrain_epochs': 1,
    'labels_per_class': 3,
    'finetune_epochs': 1,
    'block_size': 16,
    'max_eval': 64,
}


def quiet_lightning() -> None:
    """Keep the demo's output to its own lines.

    Lightning's informational messages (tips, accelerators, seeds, checkpoint
    restores) go below the WARNING level, and two warnings that tiny runs always
    raise and that say nothing about the user's setup are ignored.
    """
    for name in ('lightning.pytorch', 'lightning.fabric'):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings('ignore', message='.*LeafSpec.*is deprecated')
    warnings.filterwarnings('ignore', message='.*smaller than the logging interval')


def main(args: Sequence[str] | None = None) -> None:
    """Run the demo from command-line arguments.

    Args:
        args: Arguments (without the ``demo`` subcommand); ``sys.argv`` when None.
    """
    namespace = vars(build_parser().parse_args(args))
    quick = namespace.pop('quick')
    quiet_lightning()
    if quick:
        namespace.update(QUICK)
    run_demo(DemoConfig(**namespace))
