"""Speed and memory of SpectralViT / SpectralMAE against timm ViTs at equal tokens.

For every band count C and image size H = W it times one training step (forward +
backward, no optimiser) of

* ``mae``: :class:`SpectralMAE` pretraining step (two-stage masking, decoder), and
* ``encoder``: the plain :class:`SpectralViT` encoder (mean-pooled embedding),

in both token modes (``joint``: G*N tokens; ``pooled``: N tokens), and the same
step of a timm reference fed the same number of tokens and the same input values:
a ``VisionTransformer`` of the same width and depth whose patch grid is 1 x T
(T = our token count). In joint mode each reference token projects ``k x p x p``
values, as ours; in pooled mode each of the N reference tokens projects all
``G*k x p x p`` values of its patch (a plain ViT with ``in_chans = G*k``), as ours
does before pooling the groups. For the MAE, a timm ViT on the visible tokens
plus a timm-Block decoder of the same size on all tokens. It prints a markdown
table:

* ``tokens``: encoder tokens per sample (MAE: visible / all),
* ``samples/s``: median over rounds (CPU: per second of this process's CPU
  time, so that other load on a shared machine does not count; GPU: wall time),
* ``GFLOP/s`` and ``% peak``: FLOPs of the step (``torch.utils.flop_counter``)
  per second, against the fp32 matmul peak measured on this machine,
* ``peak MB``: peak resident memory growth during the step (CPU: VmHWM of
  /proc/self/status reset through /proc/self/clear_refs; CUDA:
  ``torch.cuda.max_memory_allocated``),
* ``vs timm``: our throughput / the timm reference's (>1: faster), the median
  over rounds of the paired ratio (reference step time / ours, timed back to
  back in one round, in an order that reverses every round),
* ``q1-q3``: the first and third quartiles of those paired ratios.

The paired median is the estimator because load on a shared machine changes
between rounds far more than within one; with 41 rounds the ratios near 1
varied by at most 0.04 between three runs on the shared 2-core CPU (see
benchmarks/README.md).

Default (``--quick`` settings): ViT-Ti width, batch 2, C in {13, 224}, H = 32,
41 rounds, steps over 3 s measured once, joint configurations over 512 tokens
skipped: eight rows in under 2 minutes with ``--threads 1`` on a 2-core CPU (two
threads on a loaded machine suffer from OpenMP spin-waiting). ``--compile`` runs
both models through ``torch.compile`` and adds two columns: ``compile s``, the
wall time of our first (compiling) step, and ``vs eager``, our compiled step's
throughput over our eager step's (timed in the same alternation; FLOPs and peak
memory then come from the eager step); a backend that cannot compile stops the
script with the reason. ``--amp bf16`` runs the steps under bfloat16 autocast (GPU). Full
settings::

    python benchmarks/model_speed.py --full

(ViT-S width, batch 8, H in {32, 64, 128}, five rounds; configurations whose
first step exceeds ``--budget-s`` keep that single measurement, marked ``*``;
those above ``--max-tokens`` are skipped).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from timm.models.vision_transformer import Block, VisionTransformer
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from torchgeo_spectral.models import SpectralMAE, SpectralViT
from torchgeo_spectral.models.masking import masked_count

WIDTHS = {'tiny': (192, 3), 'small': (384, 6), 'base': (768, 12)}


@dataclass
class Result:
    name: str
    channels: int
    size: int
    token_mode: str
    tokens: str
    samples_per_s: float
    gflops: float
    peak_fraction: float
    peak_mb: float
    ratio: float
    note: str = ''
    compile_s: float = float('nan')
    vs_eager: float = float('nan')
    ratio_range: tuple[float, float] = (float('nan'), float('nan'))


def _status_kb(key: str) -> int | None:
    try:
        with open('/proc/self/status') as fh:
            match = re.search(rf'{key}:\s+(\d+)', fh.read())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_peak_rss() -> int | None:
    try:
        with open('/proc/self/clear_refs', 'w') as fh:
            fh.write('5')
    except OSError:
        return None
    return _status_kb('VmRSS')


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def step_clock(device: torch.device) -> Callable[[], float]:
    """Clock of a step: CPU time of this process on the CPU, wall time on a GPU.

    On a shared CPU, wall time counts the time other processes hold the cores;
    the process's CPU time does not (with ``--threads 1`` it is the step's own
    compute), so ratios stay meaningful at any load.
    """
    return time.process_time if device.type == 'cpu' else time.perf_counter


def matmul_peak(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """Measured fp32 matmul GFLOP/s (median)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.matmul(a, b)
    times = []
    clock = step_clock(device)
    for _ in range(repeats):
        sync(device)
        t0 = clock()
        torch.matmul(a, b)
        sync(device)
        times.append(clock() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def timm_vit(
    tokens: int, patch: int, chans: int, dim: int, depth: int, heads: int
) -> nn.Module:
    """timm ViT with a 1 x tokens patch grid (same patch projection cost)."""
    return VisionTransformer(
        img_size=(patch, tokens * patch),
        patch_size=patch,
        in_chans=chans,
        embed_dim=dim,
        depth=depth,
        num_heads=heads,
        class_token=False,
        global_pool='avg',
        num_classes=0,
    )


class TimmMAE(nn.Module):
    """timm reference MAE: ViT on the visible tokens, Block decoder on all."""

    def __init__(
        self,
        visible: int,
        total: int,
        patch: int,
        chans: int,
        dim: int,
        depth: int,
        heads: int,
        bands_per_token: int,
    ) -> None:
        super().__init__()
        self.visible, self.total = visible, total
        self.encoder = timm_vit(visible, patch, chans, dim, depth, heads)
        self.decoder_embed = nn.Linear(dim, 256)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, 256))
        self.decoder = nn.Sequential(*[Block(256, 8) for _ in range(4)])
        self.norm = nn.LayerNorm(256)
        self.pred = nn.Linear(256, bands_per_token * patch * patch)

    def forward(self, x: Tensor, target: Tensor) -> Tensor:
        latent = self.decoder_embed(self.encoder.forward_features(x))
        b = latent.shape[0]
        pad = self.mask_token.expand(b, self.total - self.visible, -1)
        out = self.pred(self.norm(self.decoder(torch.cat([latent, pad], dim=1))))
        return (out - target).pow(2).mean()


@dataclass(frozen=True)
class Config:
    step: str  # 'encoder' or 'mae'
    channels: int
    size: int
    token_mode: str


def quartiles(values: list[float]) -> tuple[float, float]:
    """First and third quartiles (both the value itself for a single value)."""
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method='inclusive')
    return q1, q3


@dataclass(frozen=True)
class PairTiming:
    """What :func:`measure_pair` measured.

    Attributes:
        ours_s: Median seconds of our step.
        ref_s: Median seconds of the reference step.
        ratio: Median over rounds of the paired ratio ``ref / ours`` (our
            throughput over the reference's; >1: ours is faster).
        ratio_range: First and third quartiles of the paired ratios.
        flops: FLOPs of our step.
        peak_mb: Peak memory growth of our first step (MiB).
        cut: Whether the rounds stopped early (a step over the budget).
        eager_s: Median seconds of the eager step (NaN without one).
        vs_eager: Median paired ratio ``eager / ours`` (NaN without one).
    """

    ours_s: float
    ref_s: float
    ratio: float
    ratio_range: tuple[float, float]
    flops: float
    peak_mb: float
    cut: bool
    eager_s: float = float('nan')
    vs_eager: float = float('nan')


def measure_pair(
    ours: Callable[[], None],
    ref: Callable[[], None],
    device: torch.device,
    repeats: int,
    budget_s: float,
    eager: Callable[[], None] | None = None,
) -> PairTiming:
    """Time our step against the reference in ``repeats`` paired rounds.

    Our first step runs under the FLOP counter and the memory probe (it is also the
    warm-up); then the reference warms up. Each round then times one step of each,
    back to back, in an order that reverses every round (so that neither always
    runs on caches the other warmed), with Python's garbage collector paused. The
    ratio is the median over rounds of ``ref / ours`` within the round: a load
    change on a shared machine hits both steps of a round alike and cancels in
    their ratio, and the median ignores the odd round that a burst of load or
    an interrupt hit on one side only. With ``eager`` (the uncompiled step of a
    compiled ``ours``), the counter and the probe run on ``eager`` instead (FLOPs
    do not depend on compilation; the peak is the eager one), and ``eager``
    joins the rounds.
    """
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    rss0 = _reset_peak_rss()
    counter = FlopCounterMode(display=False)
    with counter:
        (eager or ours)()
    sync(device)
    flops = float(counter.get_total_flops())
    if device.type == 'cuda':
        peak_mb = (torch.cuda.max_memory_allocated(device) - base) / 2**20
    else:
        hwm = _status_kb('VmHWM')
        peak_mb = (
            (hwm - rss0) / 1024
            if hwm is not None and rss0 is not None
            else float('nan')
        )
    ref()
    steps = [ours, ref] if eager is None else [ours, ref, eager]
    times: list[list[float]] = [[] for _ in steps]
    clock = step_clock(device)
    gc.collect()
    gc.disable()
    try:
        for round_ in range(repeats):
            order = (
                range(len(steps)) if round_ % 2 == 0 else reversed(range(len(steps)))
            )
            for i in order:
                sync(device)
                t0 = clock()
                steps[i]()
                sync(device)
                times[i].append(clock() - t0)
            if times[0][0] > budget_s:
                break
    finally:
        gc.enable()
    ratios = [r / o for o, r in zip(times[0], times[1], strict=True)]
    timing = PairTiming(
        ours_s=statistics.median(times[0]),
        ref_s=statistics.median(times[1]),
        ratio=statistics.median(ratios),
        ratio_range=quartiles(ratios),
        flops=flops,
        peak_mb=peak_mb,
        cut=len(times[0]) < repeats,
    )
    if eager is None:
        return timing
    return replace(
        timing,
        eager_s=statistics.median(times[2]),
        vs_eager=statistics.median(
            [e / o for o, e in zip(times[0], times[2], strict=True)]
        ),
    )


class CompileError(RuntimeError):
    """``torch.compile`` failed; the message says why."""


def compile_step(step: Callable[[], None], device: torch.device) -> float:
    """Run a compiled step once (it compiles) and return the wall seconds taken.

    Wall time, not CPU time: compilation runs the C++ compiler in subprocesses.

    Raises:
        CompileError: If compilation fails (e.g. no C++ compiler for inductor on
            a CPU), with the reason.
    """
    t0 = time.perf_counter()
    try:
        step()
    except Exception as err:
        first = ' '.join(str(err).split())[:300]
        raise CompileError(
            f'torch.compile failed on {device} ({type(err).__name__}: {first}); '
            'run without --compile'
        ) from err
    sync(device)
    return time.perf_counter() - t0


def run_config(args: argparse.Namespace, cfg: Config, peak: float) -> Result:
    """Benchmark one configuration (in a fresh forked process)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dim, heads = WIDTHS[args.model]
    p, k, depth, batch = (
        args.patch_size,
        args.bands_per_token,
        args.depth,
        args.batch_size,
    )
    groups = -(-cfg.channels // k)
    positions = (cfg.size // p) ** 2
    total = groups * positions
    enc_tokens = total if cfg.token_mode == 'joint' else positions
    keep_pos = positions - masked_count(args.spatial_ratio, positions)
    keep_grp = max(1, groups - masked_count(args.spectral_ratio, groups))
    visible = keep_pos * keep_grp if cfg.token_mode == 'joint' else keep_pos
    tokens = str(enc_tokens) if cfg.step == 'encoder' else f'{visible}/{total}'
    result = Result(
        cfg.step, cfg.channels, cfg.size, cfg.token_mode, tokens, 0, 0, 0, 0, 0
    )
    if enc_tokens > args.max_tokens:
        result.note = 'skipped'
        return result

    torch.manual_seed(0)
    x = torch.randn(batch, cfg.channels, cfg.size, cfg.size, device=device)
    wl = torch.linspace(400.0, 2500.0, cfg.channels, device=device)
    encoder = SpectralViT(
        embed_dim=dim,
        depth=depth,
        num_heads=heads,
        patch_size=p,
        bands_per_token=k,
        token_mode=cfg.token_mode,  # type: ignore[arg-type]
    ).to(device)
    ours: Callable[[], None]
    ref: Callable[[], None]
    # Pooled tokens project every visible group of their patch (see the docstring).
    joint = cfg.token_mode == 'joint'
    enc_chans = k if joint else groups * k
    mae_chans = k if joint else keep_grp * k
    autocast = torch.autocast(
        device.type, dtype=torch.bfloat16, enabled=args.amp == 'bf16'
    )
    if cfg.step == 'encoder':
        ref_vit = timm_vit(enc_tokens, p, enc_chans, dim, depth, heads).to(device)
        x_ref = torch.randn(batch, enc_chans, p, enc_tokens * p, device=device)
        our_fn: Callable[..., Tensor] = encoder
        ref_fn: Callable[..., Tensor] = ref_vit
        if args.compile:
            our_fn, ref_fn = torch.compile(encoder), torch.compile(ref_vit)

        def ours() -> None:
            with autocast:
                out = our_fn(x, wl)
            out.float().sum().backward()

        def eager() -> None:
            with autocast:
                out = encoder(x, wl)
            out.float().sum().backward()

        def ref() -> None:
            with autocast:
                out = ref_fn(x_ref)
            out.float().sum().backward()

    else:
        mae = SpectralMAE(
            encoder,
            spatial_mask_ratio=args.spatial_ratio,
            spectral_mask_ratio=args.spectral_ratio,
        ).to(device)
        ref_mae = TimmMAE(visible, total, p, mae_chans, dim, depth, heads, k).to(device)
        xv = torch.randn(batch, mae_chans, p, visible * p, device=device)
        target = torch.randn(batch, total, k * p * p, device=device)
        gen = torch.Generator(device=device).manual_seed(0)
        mae_fn: Callable[..., Any] = mae
        ref_mae_fn: Callable[..., Tensor] = ref_mae
        if args.compile:
            mae_fn, ref_mae_fn = torch.compile(mae), torch.compile(ref_mae)

        def ours() -> None:
            with autocast:
                loss = mae_fn(x, wl, generator=gen).loss
            loss.backward()

        def eager() -> None:
            with autocast:
                loss = mae(x, wl, generator=gen).loss
            loss.backward()

        def ref() -> None:
            with autocast:
                loss = ref_mae_fn(xv, target)
            loss.backward()

    if args.compile:
        result.compile_s = compile_step(ours, device)
        compile_step(ref, device)
    timing = measure_pair(
        ours, ref, device, args.repeats, args.budget_s, eager if args.compile else None
    )
    result.vs_eager = timing.vs_eager
    gflops = timing.flops / timing.ours_s / 1e9
    result.samples_per_s = batch / timing.ours_s
    result.gflops = gflops
    result.peak_fraction = gflops / peak
    result.peak_mb = timing.peak_mb
    result.ratio = timing.ratio
    result.ratio_range = timing.ratio_range
    result.note = '*' if timing.cut else ''
    return result


def format_row(r: Result, max_tokens: int, compiled: bool) -> str:
    head = f'| {r.name} | {r.channels} | {r.size} | {r.token_mode} | {r.tokens} |'
    if r.note == 'skipped':
        return f'{head} skipped (> {max_tokens} tokens) | | | | | |' + (
            ' | |' if compiled else ''
        )
    row = (
        f'{head} {r.samples_per_s:.2f}{r.note} | {r.gflops:.1f} | '
        f'{100 * r.peak_fraction:.0f}% | {r.peak_mb:.0f} | {r.ratio:.2f} | '
        f'{r.ratio_range[0]:.2f}-{r.ratio_range[1]:.2f} |'
    )
    if compiled:
        row += f' {r.compile_s:.1f} | {r.vs_eager:.2f} |'
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--channels', type=int, nargs='+', default=None)
    parser.add_argument('--sizes', type=int, nargs='+', default=None)
    parser.add_argument('--token-modes', nargs='+', default=['joint', 'pooled'])
    parser.add_argument('--steps', nargs='+', default=['mae', 'encoder'])
    parser.add_argument('--model', choices=sorted(WIDTHS), default=None)
    parser.add_argument('--depth', type=int, default=12)
    parser.add_argument('--patch-size', type=int, default=16)
    parser.add_argument('--bands-per-token', type=int, default=8)
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--repeats', type=int, default=None)
    parser.add_argument(
        '--budget-s', type=float, default=None, help='max seconds per step'
    )
    parser.add_argument(
        '--max-tokens', type=int, default=None, help='max encoder tokens'
    )
    parser.add_argument('--spatial-ratio', type=float, default=0.6)
    parser.add_argument('--spectral-ratio', type=float, default=0.4)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--compile', action='store_true', help='torch.compile both models'
    )
    parser.add_argument(
        '--amp', choices=['none', 'bf16'], default='none', help='autocast dtype'
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--quick', action='store_true', help='small defaults (the default)'
    )
    group.add_argument(
        '--full', action='store_true', help='full settings (slow on CPU)'
    )
    args = parser.parse_args()
    full = args.full
    args.model = args.model or ('small' if full else 'tiny')
    args.channels = args.channels or ([3, 13, 103, 224, 425] if full else [13, 224])
    args.sizes = args.sizes or ([32, 64, 128] if full else [32])
    args.batch_size = args.batch_size or (8 if full else 2)
    args.repeats = args.repeats or (5 if full else 41)
    args.budget_s = args.budget_s or (60.0 if full else 3.0)
    args.max_tokens = args.max_tokens or (8192 if full else 512)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    configs = [
        Config(step, channels, size, mode)
        for size in args.sizes
        for channels in args.channels
        for mode in args.token_modes
        if not (mode == 'pooled' and channels <= args.bands_per_token)  # 1 group
        for step in args.steps
    ]
    # Every configuration runs in a fresh process forked from a server that has
    # imported torch but run nothing, so peak memory is per configuration (CUDA
    # processes cannot fork: they run in this process).
    ctx = multiprocessing.get_context('forkserver')
    ctx.set_forkserver_preload(['torch', 'timm', 'torchgeo_spectral.models'])
    isolate = device.type == 'cpu'

    peak = matmul_peak(device)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'
    load = (
        f', load average {os.getloadavg()[0]:.1f}' if hasattr(os, 'getloadavg') else ''
    )
    print(
        f'device: {name}, {torch.get_num_threads()} threads, os.cpu_count()={os.cpu_count()}'
        f'{load}; fp32 matmul peak {peak:.1f} GFLOP/s; width {WIDTHS[args.model][0]}, '
        f'depth {args.depth}, p={args.patch_size}, k={args.bands_per_token}, batch '
        f'{args.batch_size}, {args.repeats} paired rounds; MAE ratios {args.spatial_ratio}/'
        f'{args.spectral_ratio}; step = forward + backward; * = single step (over '
        f'{args.budget_s:g} s); compile={args.compile}, amp={args.amp}\n'
    )
    header = (
        '| step | C | H=W | mode | tokens | samples/s | GFLOP/s | % peak | peak MB '
        '| vs timm | q1-q3 |'
    )
    rule = '|---|---|---|---|---|---|---|---|---|---|---|'
    if args.compile:
        header += ' compile s | vs eager |'
        rule += '---|---|'
    print(header)
    print(rule, flush=True)
    for cfg in configs:
        try:
            if isolate:
                with ctx.Pool(1) as pool:
                    result = pool.apply(run_config, (args, cfg, peak))
            else:
                result = run_config(args, cfg, peak)
        except CompileError as err:
            raise SystemExit(f'error: {err}') from err
        print(format_row(result, args.max_tokens, args.compile), flush=True)


if __name__ == '__main__':
    main()
