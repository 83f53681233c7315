"""Configuration of the accuracy benchmark and its command line."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Every method the benchmark knows, in table order.
ALL_METHODS: tuple[str, ...] = (
    'spectral_mae_probe',
    'spectral_mae_finetune',
    'random_probe',
    'random_finetune',
    'imagenet_finetune',
    'torchgeo_mae_probe',
    'torchgeo_mae_finetune',
    'pca_svm',
    'random_forest',
)

#: Band settings of the robustness study, in table order.
ALL_BAND_SETS: tuple[str, ...] = (
    'enmap',
    'uniform_100',
    'uniform_50',
    'sentinel2',
    'rgb',
    'hyperion',
    'desis',
)


def default_data_dir() -> Path:
    """Folder of the real data excerpts.

    Returns:
        ``$TORCHGEO_SPECTRAL_DATA`` when set, else ``../shared/data`` beside the
        repository.
    """
    env = os.environ.get('TORCHGEO_SPECTRAL_DATA')
    return Path(env) if env else REPO_ROOT.parent / 'shared' / 'data'


@dataclass
class BenchConfig:
    """All settings of one benchmark run.

    The defaults are the "small" setting that runs in about 20-25 minutes on an
    unloaded 2-core CPU; :meth:`smoke` shrinks everything to a few seconds.
    """

    data: Path = field(default_factory=default_data_dir)
    out: Path = REPO_ROOT / 'benchmarks' / 'results'
    device: str = 'auto'
    threads: int = 1
    seeds: tuple[int, ...] = (0, 1, 2)
    budgets: tuple[float, ...] = (0.01, 0.1, 1.0)
    methods: tuple[str, ...] = ALL_METHODS
    band_sets: tuple[str, ...] = ALL_BAND_SETS
    scenes: tuple[str, ...] = ()
    imagenet_weights: Path | None = None
    # Spatial protocol.
    window: int = 4
    block_size: int = 16
    test_fraction: float = 0.5
    split_seed_offset: int = 0
    # Architecture (shared by every neural method).
    patch_size: int = 2
    bands_per_token: int = 32
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    token_mode: str = 'joint'
    decoder_dim: int = 64
    decoder_depth: int = 1
    # Pretraining (identical for both MAEs).
    pretrain_steps: int = 2500
    pretrain_batch: int = 32
    pretrain_size: int = 8
    pretrain_lr: float = 1e-3
    mask_ratio: float = 0.75
    pretrain_seed: int = 0
    # Downstream.
    finetune_steps: int = 300
    finetune_batch: int = 64
    finetune_lr: float = 5e-4
    head_lr: float = 2e-3
    probe_c: float = 1.0
    eval_batch: int = 256
    max_test_pixels: int = 0
    # Classical baselines.
    pca_components: int = 30
    svm_c: float = 100.0
    rf_trees: int = 100
    smoke_run: bool = False
    command: str = ''

    @classmethod
    def smoke(cls, **overrides: object) -> BenchConfig:
        """Tiny settings for the test suite (seconds, not minutes).

        Args:
            **overrides: Fields to set on top of the smoke settings.

        Returns:
            The configuration.
        """
        config = cls(
            seeds=(0, 1),
            budgets=(0.01, 0.1),
            band_sets=('enmap', 'rgb'),
            embed_dim=16,
            depth=1,
            num_heads=2,
            decoder_dim=16,
            pretrain_steps=2,
            pretrain_batch=4,
            finetune_steps=2,
            finetune_batch=16,
            max_test_pixels=150,
            rf_trees=10,
            pca_components=5,
            smoke_run=True,
        )
        return dataclasses.replace(config, **overrides)  # type: ignore[arg-type]


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(',') if v)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(',') if v)


def _names(choices: Sequence[str]) -> object:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(v.strip() for v in text.split(',') if v.strip())
        unknown = sorted(set(names) - set(choices))
        if unknown:
            msg = f'unknown {unknown}; choose from {", ".join(choices)}'
            raise argparse.ArgumentTypeError(msg)
        return names

    return parse


def build_parser() -> argparse.ArgumentParser:
    """Command-line parser of the benchmark.

    Returns:
        The parser; every option defaults to the :class:`BenchConfig` default.
    """
    d = BenchConfig()
    p = argparse.ArgumentParser(
        prog='python -m benchmarks.accuracy',
        description='Few-label accuracy benchmark: spectral MAE vs baselines on '
        'real labelled spectral scenes with spatially disjoint splits.',
    )
    p.add_argument('--data', type=Path, default=d.data, help='shared data folder')
    p.add_argument('--out', type=Path, default=d.out, help='results folder')
    p.add_argument('--device', default=d.device, help="'auto', 'cpu' or 'cuda'")
    p.add_argument(
        '--threads',
        type=int,
        default=d.threads,
        help='torch intra-op threads (0: torch default; 1 suits the tiny default '
        'ViT on a small shared CPU)',
    )
    p.add_argument('--smoke', action='store_true', help='tiny settings (seconds)')
    p.add_argument('--seeds', type=_ints, default=d.seeds, help='e.g. 0,1,2')
    p.add_argument('--budgets', type=_floats, default=d.budgets, help='0.01,0.1,1')
    p.add_argument('--methods', type=_names(ALL_METHODS), default=d.methods)
    p.add_argument('--band-sets', type=_names(ALL_BAND_SETS), default=d.band_sets)
    p.add_argument(
        '--scenes',
        type=lambda s: tuple(v for v in s.split(',') if v),
        default=d.scenes,
        help='extra classic scenes to run when their files are present, e.g. '
        'indian_pines,pavia_university (folder: DATA/<scene>)',
    )
    p.add_argument(
        '--imagenet-weights',
        type=Path,
        default=None,
        help='local timm ViT state dict for the ImageNet-transfer row',
    )
    ints = (
        'window',
        'block_size',
        'patch_size',
        'bands_per_token',
        'embed_dim',
        'depth',
        'num_heads',
        'decoder_dim',
        'decoder_depth',
        'pretrain_steps',
        'pretrain_batch',
        'pretrain_size',
        'finetune_steps',
        'finetune_batch',
        'max_test_pixels',
        'rf_trees',
        'pca_components',
    )
    for name in ints:
        p.add_argument('--' + name.replace('_', '-'), type=int, default=None)
    p.add_argument(
        '--token-mode',
        choices=('joint', 'pooled'),
        default=None,
        help="spectral ViT token mode ('pooled': attention over positions only)",
    )
    floats = ('test_fraction', 'pretrain_lr', 'finetune_lr', 'head_lr', 'svm_c')
    for name in floats:
        p.add_argument('--' + name.replace('_', '-'), type=float, default=None)
    return p


def parse_args(argv: Sequence[str] | None = None) -> BenchConfig:
    """Build a :class:`BenchConfig` from command-line arguments.

    Explicit options override the default or ``--smoke`` settings.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The configuration.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    base = BenchConfig.smoke() if args.smoke else BenchConfig()
    values = vars(args)
    updates: dict[str, object] = {}
    for f in dataclasses.fields(BenchConfig):
        if f.name in values and values[f.name] is not None:
            explicit = values[f.name] != parser.get_default(f.name)
            if explicit or not args.smoke:
                updates[f.name] = values[f.name]
    words = ['python -m benchmarks.accuracy', *argv]
    updates['command'] = ' '.join(words)
    return dataclasses.replace(base, **updates)  # type: ignore[arg-type]
