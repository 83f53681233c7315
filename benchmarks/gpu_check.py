"""One GPU check: model speed, pretraining throughput and inference throughput.

Run through ``benchmarks/gpu_check.sh`` (which bounds it to 8 minutes). On a CUDA
machine it measures, under bfloat16 autocast:

1. ``model_speed``: the MAE and encoder training steps against the timm reference
   at equal tokens (see ``benchmarks/model_speed.py``) at ViT-S and ViT-B widths;
2. ``pretrain``: a timed SpectralMAE pretraining loop (AdamW, forward, backward,
   optimizer step) on synthetic 224-band cubes, for ``--pretrain-s`` seconds;
3. ``inference``: encoder feature maps (``forward_feature_map``, no gradients) on
   synthetic tiles.

It prints one markdown table. ``--dry-run`` runs the same code on the CPU with
tiny sizes and durations (for the test suite), in fp32.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model_speed import WIDTHS, Config, matmul_peak, run_config, sync

from torchgeo_spectral.models import SpectralMAE, SpectralViT


@dataclass(frozen=True)
class Settings:
    """Sizes of one check (full GPU run or CPU dry run)."""

    device: str
    amp: str
    widths: tuple[str, ...]
    depth: int
    channels: tuple[int, ...]
    speed_size: int
    speed_batch: int
    pretrain_batch: int
    pretrain_size: int
    pretrain_s: float
    infer_batch: int
    infer_size: int
    infer_s: float
    patch_size: int
    repeats: int


def settings(args: argparse.Namespace) -> Settings:
    """Full settings on CUDA, tiny ones for ``--dry-run``."""
    if args.dry_run:
        return Settings(
            device='cpu',
            amp='none',
            widths=('tiny',),
            depth=1,
            channels=(13,),
            speed_size=16,
            speed_batch=1,
            pretrain_batch=2,
            pretrain_size=16,
            pretrain_s=0.5,
            infer_batch=2,
            infer_size=16,
            infer_s=0.5,
            patch_size=8,
            repeats=1,
        )
    if not torch.cuda.is_available():
        raise SystemExit('no CUDA device: run with --dry-run to check on the CPU')
    return Settings(
        device='cuda',
        amp='bf16',
        widths=('small', 'base'),
        depth=12,
        channels=(13, 224),
        speed_size=64,
        speed_batch=16,
        pretrain_batch=32,
        pretrain_size=64,
        pretrain_s=args.pretrain_s,
        infer_batch=64,
        infer_size=64,
        infer_s=20.0,
        patch_size=8,
        repeats=5,
    )


def speed_rows(s: Settings) -> list[str]:
    """model_speed rows (MAE and encoder steps vs timm) at each width."""
    device = torch.device(s.device)
    peak = matmul_peak(device)
    rows = []
    for width in s.widths:
        args = argparse.Namespace(
            threads=None,
            device=s.device,
            model=width,
            patch_size=s.patch_size,
            bands_per_token=8,
            depth=s.depth,
            batch_size=s.speed_batch,
            spatial_ratio=0.6,
            spectral_ratio=0.4,
            max_tokens=1 << 20,
            repeats=s.repeats,
            budget_s=60.0,
            compile=False,
            amp=s.amp,
        )
        for channels in s.channels:
            for mode in ('joint', 'pooled'):
                if mode == 'pooled' and channels <= 8:
                    continue
                for step in ('mae', 'encoder'):
                    r = run_config(
                        args, Config(step, channels, s.speed_size, mode), peak
                    )
                    rows.append(
                        f'| model_speed | {width} | {step} {mode} C={channels} '
                        f'H={s.speed_size} | {r.tokens} | {r.samples_per_s:.1f} '
                        f'samples/s | {r.peak_mb:.0f} | {r.ratio:.2f} |'
                    )
    return rows


def encoder_for(width: str, s: Settings) -> SpectralViT:
    """The encoder of one width at the check's depth."""
    dim, heads = WIDTHS[width]
    return SpectralViT(
        embed_dim=dim,
        depth=s.depth,
        num_heads=heads,
        patch_size=s.patch_size,
        bands_per_token=8,
    )


def pretrain_row(s: Settings, width: str) -> str:
    """Timed pretraining loop on synthetic cubes."""
    device = torch.device(s.device)
    torch.manual_seed(0)
    mae = SpectralMAE(encoder_for(width, s)).to(device)
    opt = torch.optim.AdamW(mae.parameters(), lr=1.5e-4, weight_decay=0.05)
    bands = max(s.channels)
    x = torch.randn(s.pretrain_batch, bands, s.pretrain_size, s.pretrain_size)
    x = x.to(device)
    wl = torch.linspace(400.0, 2500.0, bands, device=device)
    amp = torch.autocast(device.type, dtype=torch.bfloat16, enabled=s.amp == 'bf16')
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)

    def step() -> None:
        with amp:
            loss = mae(x, wl).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()  # warm-up
    sync(device)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < s.pretrain_s:
        step()
        steps += 1
    sync(device)
    elapsed = time.perf_counter() - start
    mem = (
        torch.cuda.max_memory_allocated(device) / 2**20
        if device.type == 'cuda'
        else float('nan')
    )
    return (
        f'| pretrain | {width} | MAE C={bands} H={s.pretrain_size} batch '
        f'{s.pretrain_batch}, {steps} steps in {elapsed:.0f} s | - | '
        f'{steps * s.pretrain_batch / elapsed:.1f} samples/s | {mem:.0f} | - |'
    )


@torch.no_grad()
def inference_row(s: Settings, width: str) -> str:
    """Encoder feature maps on synthetic tiles."""
    device = torch.device(s.device)
    torch.manual_seed(0)
    encoder = encoder_for(width, s).to(device).eval()
    bands = max(s.channels)
    x = torch.randn(s.infer_batch, bands, s.infer_size, s.infer_size, device=device)
    wl = torch.linspace(400.0, 2500.0, bands, device=device)
    amp = torch.autocast(device.type, dtype=torch.bfloat16, enabled=s.amp == 'bf16')
    with amp:
        encoder.forward_feature_map(x, wl)
    sync(device)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < s.infer_s:
        with amp:
            encoder.forward_feature_map(x, wl)
        calls += 1
    sync(device)
    elapsed = time.perf_counter() - start
    tiles = calls * s.infer_batch / elapsed
    return (
        f'| inference | {width} | feature map C={bands} H={s.infer_size} batch '
        f'{s.infer_batch} | - | {tiles:.1f} tiles/s '
        f'({tiles * s.infer_size**2 / 1e6:.2f} Mpx/s) | - | - |'
    )


def main() -> None:
    """Run the three checks and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dry-run', action='store_true', help='tiny CPU run')
    parser.add_argument('--pretrain-s', type=float, default=120.0)
    args = parser.parse_args()
    s = settings(args)
    device = torch.device(s.device)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'
    print(
        f'gpu_check: {name}, torch {torch.__version__}, amp={s.amp}, depth '
        f'{s.depth}, p={s.patch_size}, k=8{" (dry run)" if args.dry_run else ""}\n'
    )
    rows = speed_rows(s)
    for width in s.widths:
        rows.append(pretrain_row(s, width))
        rows.append(inference_row(s, width))
    print('| check | width | what | tokens | throughput | peak MB | vs timm |')
    print('|---|---|---|---|---|---|---|')
    for row in rows:
        print(row)


if __name__ == '__main__':
    main()
