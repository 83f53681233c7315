"""Ablation of the issue 11 recipe: each change switched on or off, measured.

``python -m benchmarks.accuracy --ablation`` pretrains the spectral MAE on the
target scene's own pixels once per variant that changes pretraining (fewer steps
than the main run), then scores the linear probe and the fine-tune of each
variant on the same splits and seeds, and writes ``accuracy_ablation.md`` and
``accuracy_ablation.csv``; the main report includes the markdown when present.
A variant whose switch the product does not offer is listed with the reason
instead of a number.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import neural
from .data import Cube
from .metrics import format_paired

if TYPE_CHECKING:
    from .runner import RunState

#: Budgets of the ablation: the hardest one and the linear-probe target.
ABLATION_BUDGETS: tuple[float, ...] = (0.01, 10.0)


@dataclass
class Variant:
    """One row of the ablation.

    Attributes:
        name: Key (``--ablation``).
        change: What differs from the default recipe, in words.
        overrides: :class:`BenchConfig` fields to change.
        pretrains: Whether the change affects pretraining (a new MAE is trained).
        unavailable: Why it cannot run with this product, or ``''``.
    """

    name: str
    change: str
    overrides: dict[str, Any] = field(default_factory=dict)
    pretrains: bool = True
    unavailable: str = ''


def _accepts(cls_name: str, parameter: str) -> bool:
    """Whether a ``torchgeo_spectral.models`` class takes a keyword argument."""
    from torchgeo_spectral import models

    cls = getattr(models, cls_name)
    return parameter in inspect.signature(cls.__init__).parameters


def variants() -> dict[str, Variant]:
    """Every ablation variant, with availability checked against the product.

    Returns:
        Variants by name, in table order.
    """
    projection = _accepts('SpectralViT', 'projection')
    no_switch = (
        'the product has no switch for it (the change is built in): compare a '
        'run on the code before the change to measure it'
    )
    return {
        v.name: v
        for v in (
            Variant('recipe', 'default recipe (all changes on)'),
            Variant(
                'norm_pix_target',
                'MAE target normalized per token (brightness erased)',
                {'norm_pix_loss': True},
            ),
            Variant(
                'shape_stats_target',
                'MAE target normalized per token plus its mean and standard '
                "deviation (SpectralMAE(target='normalized+stats'))",
                {'mae_options': {'target': 'normalized+stats'}},
            ),
            Variant(
                'visible_loss',
                'MAE loss also scores the visible tokens, weight 1 '
                '(SpectralMAETask(visible_loss_weight=1.0))',
                {'visible_loss_weight': 1.0},
            ),
            Variant(
                'deep_decoder',
                'MAE decoder of 4 blocks instead of 1 (a deeper decoder leaves the '
                "encoder's last blocks less tied to reconstruction; MAE paper, "
                'Table 1a)',
                {'decoder_depth': 4},
            ),
            Variant(
                'padded_slots_in_loss',
                'loss also scores the padded band slots of the last group',
                unavailable=no_switch,
            ),
            Variant(
                'legacy_spectral_encoding',
                'spectral sin-cos of raw nm, base 10000 (shortest period 6.3 nm)',
                unavailable=no_switch,
            ),
            Variant(
                'shared_projection',
                'token projection shared by band position '
                "(SpectralViT(projection='shared')) instead of generated from each "
                "band's wavelength",
                {'projection': 'shared'},
                unavailable='' if projection else 'SpectralViT has no projection=',
            ),
            Variant(
                'window_mean_features',
                "mean of the window's tokens instead of the pixel's own token",
                {'pool': 'mean'},
                pretrains=False,
            ),
            Variant(
                'head_norm',
                'fine-tuned linear head on features standardized by a BatchNorm '
                "without affine parameters (the tasks' head_norm=True)",
                {'head_norm': True},
                pretrains=False,
            ),
            Variant(
                'probe_head_init',
                'linear head initialized from the closed-form linear probe of the '
                "frozen features (the tasks' head_init='probe')",
                {'head_init': 'probe'},
                pretrains=False,
            ),
            Variant(
                'plain_finetune',
                'fine-tuning without the recipe: no layer decay, no warm-up probe, '
                'no drop-path, no label smoothing, weight decay on everything, '
                'encoder lr 5e-4',
                {
                    'layer_decay': 1.0,
                    'probe_steps': 0,
                    'drop_path': 0.0,
                    'label_smoothing': 0.0,
                    'decay_norms': True,
                    'finetune_lr': 5e-4,
                },
                pretrains=False,
            ),
        )
    }


def run_ablation(state: RunState) -> None:
    """Run the requested variants and write the ablation report.

    Args:
        state: A fresh run state (``cfg.ablations`` names the variants).
    """
    from .runner import load_main, make_splits
    from .splits import Split

    base = dataclasses.replace(
        state.cfg,
        seeds=state.cfg.ablation_seeds,
        budgets=ABLATION_BUDGETS,
        pretrain_steps=state.cfg.ablation_pretrain_steps,
    )
    state.cfg = base
    with state.phase('load data'):
        scene, _ = load_main(state)
    with state.phase('splits'):
        splits: dict[tuple[int, float], Split] = make_splits(state, scene)
    own = [Cube(scene.name, scene.image, scene.wavelengths, 'image only')]
    all_variants = variants()
    records: list[dict[str, Any]] = []
    encoders: dict[str, Any] = {}
    for name in base.ablations:
        variant = all_variants[name]
        if variant.unavailable:
            continue
        cfg = dataclasses.replace(base, **variant.overrides)
        state.cfg = cfg
        if variant.pretrains or 'recipe' not in encoders:
            with state.phase(f'ablation {name}: pretrain'):
                encoder, log = neural.pretrain_spectral_mae(
                    own, cfg, state.device, f'spectral MAE ({name})'
                )
            state.pretrain.append(log.summary())
            encoders[name] = encoder
        else:
            encoder = encoders['recipe']
            encoder.pool = cfg.pool
        kinds = {'pretrained': encoder}
        if name in ('recipe', 'window_mean_features', 'plain_finetune'):
            kinds['random'] = None
        with state.phase(f'ablation {name}: probes and fine-tunes'):
            for kind, start_from in kinds.items():
                for (seed, budget), split in splits.items():
                    enc = start_from
                    if enc is None:
                        enc = neural.build_spectral_encoder(cfg, 1000 + seed)
                    records += score_variant(state, name, kind, enc, scene, split)
        encoder.pool = base.pool
    state.cfg = base
    write_ablation(state, pd.DataFrame(records), all_variants)


def score_variant(
    state: RunState, name: str, kind: str, encoder: Any, scene: Any, split: Any
) -> list[dict[str, Any]]:
    """Linear probe and fine-tune of one encoder on one split.

    Args:
        state: The run state (``cfg`` holds the variant's settings).
        name: Variant name.
        kind: ``'pretrained'`` or ``'random'``.
        encoder: The starting encoder.
        scene: The scene.
        split: The split.

    Returns:
        Two records (probe and fine-tune) with the test OA.
    """
    from . import baselines
    from .runner import feature_table, needed_pixels

    cfg = state.cfg
    pixels = needed_pixels(scene, {(split.seed, split.budget): split})
    table = feature_table(state, encoder, scene, pixels)
    probe = baselines.fit_probe(table[split.train], scene.labels[split.train], cfg)
    y_true = scene.labels[split.test]
    probe_oa = float((np.asarray(probe.predict(table[split.test])) == y_true).mean())
    source = neural.WindowSource(
        scene.image, scene.wavelengths, cfg.window, state.device
    )
    start = time.perf_counter()
    model = neural.finetune(
        encoder,
        source,
        split.train,
        scene.labels[split.train] - 1,
        scene.num_classes,
        cfg,
        split.seed,
    )
    pred = neural.predict(model, source, split.test, cfg.eval_batch) + 1
    ft_oa = float((pred == y_true).mean())
    state.log(
        f'ablation {name} ({kind}) budget {split.budget:g} seed {split.seed}: probe '
        f'{probe_oa:.3f}, fine-tune {ft_oa:.3f} in {time.perf_counter() - start:.0f} s'
    )
    common = {'variant': name, 'init': kind, 'budget': split.budget, 'seed': split.seed}
    return [
        {**common, 'method': 'probe', 'oa': probe_oa},
        {**common, 'method': 'finetune', 'oa': ft_oa},
    ]


def ablation_table(records: pd.DataFrame, all_variants: dict[str, Variant]) -> str:
    """Markdown table: OA of each variant and its paired difference to the recipe.

    Args:
        records: One row per (variant, init, method, budget, seed).
        all_variants: The variants (for their descriptions and availability).

    Returns:
        Markdown table.
    """
    from .report import budget_label, markdown_table

    rows = []
    budgets = sorted(records['budget'].unique()) if len(records) else []
    recipe = records[
        (records['variant'] == 'recipe') & (records['init'] == 'pretrained')
    ]
    for name, variant in all_variants.items():
        sub = records[records['variant'] == name]
        if variant.unavailable or sub.empty:
            reason = variant.unavailable or 'not run'
            rows.append([name, variant.change, 'pretrained', *['n/a'] * 4, reason])
            continue
        for init in ('pretrained', 'random'):
            part = sub[sub['init'] == init]
            if part.empty:
                continue
            cells = []
            for method in ('probe', 'finetune'):
                for budget in budgets:
                    cur = part[(part['method'] == method) & (part['budget'] == budget)]
                    ref = recipe[
                        (recipe['method'] == method) & (recipe['budget'] == budget)
                    ]
                    pair = cur.merge(ref, on='seed', suffixes=('', '_ref'))
                    mean = 100 * cur['oa'].mean()
                    text = f'{mean:.1f}'
                    if not (name == 'recipe' and init == 'pretrained') and len(pair):
                        paired = format_paired(
                            100 * (pair['oa'] - pair['oa_ref']).to_numpy()
                        )
                        text += f' ({paired})'
                    cells.append(text)
            rows.append([name, variant.change, init, *cells, ''])
    header = [
        'Variant',
        'Change from the recipe',
        'Encoder',
        *[
            f'{m} OA @ {budget_label(b)}'
            for m in ('Probe', 'Fine-tune')
            for b in (budgets or ABLATION_BUDGETS)
        ],
        'Note',
    ]
    return markdown_table(header, rows)


def write_ablation(
    state: RunState, records: pd.DataFrame, all_variants: dict[str, Variant]
) -> None:
    """Write ``accuracy_ablation.csv`` and ``accuracy_ablation.md``.

    Args:
        state: The run state.
        records: Ablation records.
        all_variants: The variants.
    """
    from .report import environment

    cfg = state.cfg
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    records.to_csv(out / 'accuracy_ablation.csv', index=False, float_format='%.4f')
    wall = (time.time() - state.started) / 60
    seeds = ', '.join(map(str, cfg.seeds))
    lines = [
        '### Ablation: each recipe change on/off',
        '',
        (
            f'*Generated by `{cfg.command}` ({wall:.1f} min); seeds {seeds} '
            f'({len(cfg.seeds)}, fewer than the main table); spectral MAE pretrained '
            f"on the scene's own pixels for {cfg.pretrain_steps} steps per variant "
            'that changes pretraining.*'
        ),
        '',
    ]
    if cfg.smoke_run:
        lines += ['**QUICK RUN: tiny settings, the numbers are meaningless.**', '']
    lines += [
        *environment(state),
        '',
        (
            'Mean OA (%) over seeds; in brackets the paired difference to the '
            'pretrained recipe row (same seed, split and labels) with its 95 % '
            'bootstrap CI. "random" rows start from a random encoder with the '
            "variant's downstream settings."
        ),
        '',
        ablation_table(records, all_variants),
        '',
    ]
    lines += [f'- Pretraining run: {line}' for line in state.pretrain]
    (out / 'accuracy_ablation.md').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines), flush=True)
