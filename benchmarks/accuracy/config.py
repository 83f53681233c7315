"""Configuration of the accuracy benchmark and its command line."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Every method the benchmark knows, in table order.
ALL_METHODS: tuple[str, ...] = (
    'spectral_mae_probe',
    'spectral_mae_finetune',
    'cross_sensor_probe',
    'cross_sensor_finetune',
    'random_probe',
    'random_finetune',
    'imagenet_finetune',
    'torchgeo_mae_probe',
    'torchgeo_mae_finetune',
    'foundation_probe',
    'foundation_finetune',
    'foundation_random_probe',
    'foundation_random_finetune',
    'pca_svm',
    'random_forest',
    'linear_spectra',
    'spatial_svm',
)

#: Ablation variants (``--ablation``), in table order: ``'recipe'`` is the
#: default recipe, every other variant switches one change (see ``ablation.py``).
ALL_ABLATIONS: tuple[str, ...] = (
    'recipe',
    'norm_pix_target',
    'shape_stats_target',
    'visible_loss',
    'deep_decoder',
    'padded_slots_in_loss',
    'legacy_spectral_encoding',
    'shared_projection',
    'window_mean_features',
    'head_norm',
    'probe_head_init',
    'plain_finetune',
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

    The defaults are the setting the report quotes (10 seeds, three label
    budgets; sized to finish within an hour on an unloaded 2-core CPU);
    :meth:`quick` shrinks everything to seconds for CI.

    A budget in ``(0, 1]`` is a fraction of the training pixels of each class (at
    least one); a budget above 1 is a number of labels per class, capped at what
    the class has in the training region.
    """

    data: Path = field(default_factory=default_data_dir)
    out: Path = REPO_ROOT / 'benchmarks' / 'results'
    device: str = 'auto'
    threads: int = 1
    seeds: tuple[int, ...] = tuple(range(10))
    budgets: tuple[float, ...] = (0.01, 5.0, 10.0)
    methods: tuple[str, ...] = ALL_METHODS
    band_sets: tuple[str, ...] = ALL_BAND_SETS
    scenes: tuple[str, ...] = ()
    imagenet_weights: Path | None = None
    #: Encoder weights of the foundation recipe (``conf/pretrain_foundation.yaml``)
    #: for the ``foundation_*`` rows; for a fair row, a checkpoint trained without
    #: the evaluated scene (leave-one-scene-out). None: those rows are not run.
    foundation_weights: Path | None = None
    ablations: tuple[str, ...] = ()
    ablation_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    ablation_pretrain_steps: int = 800
    # Spatial protocol: a pixel is classified from the odd window centred on it.
    window: int = 3
    pool: str = 'center'
    block_size: int = 16
    test_fraction: float = 0.5
    split_seed_offset: int = 0
    # Architecture (shared by every neural method).
    patch_size: int = 1
    bands_per_token: int = 32
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    token_mode: str = 'joint'
    #: ``SpectralViT(projection=...)``: ``'wavelength'`` (kernels generated from
    #: band wavelengths, the product's default) or ``'shared'`` (one kernel per
    #: band position).
    projection: str = 'wavelength'
    decoder_dim: int = 64
    decoder_depth: int = 1
    # Pretraining (identical for both MAEs).
    pretrain_steps: int = 1000
    pretrain_batch: int = 32
    pretrain_size: int = 6
    pretrain_lr: float = 1e-3
    mask_ratio: float = 0.75
    #: Seed of the pretrainings (initial weights, crops, masks); the fine-tuning
    #: seeds are ``seeds``.
    pretrain_seed: int = 0
    norm_pix_loss: bool = False
    #: Weight of the visible tokens' reconstruction error in the MAE loss
    #: (0, SpectralMAETask's default: masked tokens only, as in MAE).
    visible_loss_weight: float = 0.0
    decay_norms: bool = False
    #: Extra ``SpectralViT`` / ``SpectralMAE`` keyword arguments (product options
    #: switched by ablation variants).
    vit_options: dict[str, object] = field(default_factory=dict)
    mae_options: dict[str, object] = field(default_factory=dict)
    # Downstream fine-tuning recipe (issue 11): low encoder lr, layer-wise decay,
    # warm-up + cosine, no weight decay on norms/biases/embeddings, drop-path,
    # label smoothing, linear probe (head only) then fine-tune.
    finetune_steps: int = 150
    finetune_batch: int = 32
    finetune_lr: float = 2e-4
    head_lr: float = 2e-3
    layer_decay: float = 0.75
    weight_decay: float = 0.05
    drop_path: float = 0.1
    label_smoothing: float = 0.1
    #: Standardize the features before the linear head (the tasks' head_norm).
    head_norm: bool = False
    #: How the head starts: ``'random'``, or ``'probe'``: the tasks'
    #: ``head_init='probe'`` (closed-form linear probe of the frozen features).
    head_init: str = 'random'
    probe_steps: int = 50
    #: ``C`` of the logistic-regression probe; ``None``: chosen per fit by
    #: cross-validation on the training labels (``baselines.fit_regularized``).
    probe_c: float | None = None
    eval_batch: int = 256
    max_test_pixels: int = 0
    # Classical baselines.
    pca_components: int = 30
    #: ``C`` of the RBF SVMs; ``None``: cross-validated as ``probe_c``.
    svm_c: float | None = None
    rf_trees: int = 100
    smoke_run: bool = False
    command: str = ''

    def __post_init__(self) -> None:
        """Check the settings before any data are loaded.

        Raises:
            ValueError: If ``pool='center'`` and the window is not an odd number of
                patches, if ``pool`` is unknown, or if a seed is negative (NumPy's
                generators refuse it only after the data are loaded).
        """
        negative = [s for s in (*self.seeds, self.pretrain_seed) if s < 0]
        if negative:
            msg = f'seeds must be >= 0, got {negative}'
            raise ValueError(msg)
        if self.head_init not in head_inits():
            allowed = ' or '.join(map(repr, head_inits()))
            msg = f'head_init must be {allowed}, got {self.head_init!r}'
            raise ValueError(msg)
        if self.pool not in ('center', 'mean'):
            msg = f"pool must be 'center' or 'mean', got {self.pool!r}"
            raise ValueError(msg)
        cells, rest = divmod(self.window, self.patch_size)
        if self.pool == 'center' and (rest or cells % 2 == 0):
            msg = (
                f"pool='center' needs a window that is an odd number of patches so "
                f'that the labelled pixel sits in the centre token; got window '
                f'{self.window} with patch size {self.patch_size}'
            )
            raise ValueError(msg)

    @classmethod
    def quick(cls, **overrides: object) -> BenchConfig:
        """Tiny settings for CI and the test suite (seconds, not minutes).

        Args:
            **overrides: Fields to set on top of the smoke settings.

        Returns:
            The configuration.
        """
        config = cls(
            seeds=(0, 1),
            budgets=(0.01, 5.0),
            ablation_seeds=(0,),
            ablation_pretrain_steps=2,
            band_sets=('enmap', 'rgb'),
            embed_dim=16,
            depth=1,
            num_heads=2,
            decoder_dim=16,
            pretrain_steps=2,
            pretrain_batch=4,
            finetune_steps=2,
            probe_steps=1,
            finetune_batch=16,
            max_test_pixels=150,
            rf_trees=10,
            pca_components=5,
            smoke_run=True,
        )
        return dataclasses.replace(config, **overrides)  # type: ignore[arg-type]

    #: Former name of :meth:`quick`.
    smoke = quick


def head_inits() -> tuple[str, ...]:
    """The tasks' ``head_init`` values (imported late: the tasks load torch)."""
    from torchgeo_spectral.tasks.finetune import HeadInit

    return get_args(HeadInit)


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(',') if v)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(',') if v)


def _names(choices: Sequence[str]) -> Callable[[str], tuple[str, ...]]:
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
    p.add_argument(
        '--quick',
        '--smoke',
        dest='smoke',
        action='store_true',
        help='tiny settings for CI (seconds; the numbers mean nothing)',
    )
    p.add_argument('--seeds', type=_ints, default=d.seeds, help='e.g. 0,1,2')
    p.add_argument(
        '--budgets',
        type=_floats,
        default=d.budgets,
        help='fractions in (0, 1] or labels per class (> 1), e.g. 0.01,5,10',
    )
    p.add_argument('--methods', type=_names(ALL_METHODS), default=d.methods)
    p.add_argument(
        '--ablation',
        dest='ablations',
        nargs='?',
        const=ALL_ABLATIONS,
        type=_names(ALL_ABLATIONS),
        default=d.ablations,
        help='run the ablation table (all variants, or a comma list) instead of '
        'the main benchmark; writes accuracy_ablation.md/.csv',
    )
    p.add_argument('--ablation-seeds', type=_ints, default=None)
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
    p.add_argument(
        '--foundation-weights',
        type=Path,
        default=None,
        help='encoder weights of the foundation recipe for the foundation_* rows '
        '(e.g. a leave-one-scene-out checkpoint without the evaluated scene)',
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
        'pretrain_seed',
        'ablation_pretrain_steps',
        'probe_steps',
        'finetune_steps',
        'finetune_batch',
        'max_test_pixels',
        'rf_trees',
        'pca_components',
    )
    for name in ints:
        p.add_argument('--' + name.replace('_', '-'), type=int, default=None)
    choices: dict[str, tuple[tuple[str, ...], str]] = {
        'token_mode': (
            ('joint', 'pooled'),
            "spectral ViT token mode ('pooled': attention over positions only)",
        ),
        'projection': (
            ('shared', 'wavelength'),
            'token projection: shared by band position or generated from wavelengths',
        ),
        'pool': (
            ('center', 'mean'),
            "pixel feature: the centre token ('center') or the window mean",
        ),
        'head_init': (
            head_inits(),
            "head start: 'random' or the closed-form linear probe (default random)",
        ),
    }
    for name, (values, text) in choices.items():
        flag = '--' + name.replace('_', '-')
        p.add_argument(flag, choices=values, default=None, help=text)
    switches = {
        'norm_pix_loss': 'MAE target normalized per token (erases brightness; default off)',
        'head_norm': 'standardize features before the fine-tuned linear head (default off)',
    }
    for name, text in switches.items():
        flag = '--' + name.replace('_', '-')
        p.add_argument(
            flag, action=argparse.BooleanOptionalAction, default=None, help=text
        )
    floats = (
        'visible_loss_weight',
        'test_fraction',
        'pretrain_lr',
        'finetune_lr',
        'head_lr',
        'layer_decay',
        'weight_decay',
        'drop_path',
        'label_smoothing',
        'probe_c',
        'svm_c',
    )
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
