"""The demo: pretrain on an unlabelled scene, fine-tune with few labels, compare.

Steps (all on CPU, deterministic for a given seed):

1. generate a synthetic EnMAP-like scene and write it as GeoTIFFs;
2. pretrain a small spectral MAE on unlabelled chips of the whole scene;
3. split the labelled pixels into spatially disjoint blocks (train / val / test,
   with a guard band) and keep a few training labels per class;
4. fine-tune the pretrained encoder, and the same model from scratch, with the
   same labels and steps;
5. report overall accuracy and macro F1 on the test blocks.
"""

import csv
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from numpy.typing import NDArray
from torch.utils.data import DataLoader

from torchgeo_spectral.tasks import SpectralClassificationTask, SpectralMAETask

from .data import (
    PixelPatches,
    SceneChips,
    demo_wavelengths,
    grid_corners,
    random_corners,
)
from .scene import SyntheticScene, generate_scene, write_scene


@dataclass(frozen=True)
class DemoConfig:
    """Settings of the demo (defaults: about 5 minutes on 2 CPU cores).

    Attributes:
        output: Output folder.
        seed: Seed of the scene, the split and the training runs.
        size: Scene height and width in pixels.
        num_bands: Number of EnMAP bands kept (evenly subsampled).
        patch_size: Spatial patch size of the ViT.
        bands_per_token: Bands per spectral token group.
        embed_dim: Token width.
        depth: Encoder blocks.
        num_heads: Attention heads.
        chip_size: Pretraining chip size in pixels.
        pretrain_chips: Random chips per pretraining epoch.
        pretrain_epochs: Pretraining epochs.
        context: Fine-tuning patch size (centred on the labelled pixel).
        labels_per_class: Training labels per class.
        finetune_epochs: Fine-tuning epochs (the same for both models).
        block_size: Block side of the spatial split.
        batch_size: Batch size.
        max_eval: Cap on validation pixels (test uses all test pixels).
    """

    output: str = 'demo_output'
    seed: int = 0
    size: int = 128
    num_bands: int = 60
    patch_size: int = 3
    bands_per_token: int = 6
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    chip_size: int = 12
    pretrain_chips: int = 384
    pretrain_epochs: int = 10
    context: int = 9
    labels_per_class: int = 10
    finetune_epochs: int = 40
    block_size: int = 32
    batch_size: int = 32
    max_eval: int = 192


def _model_sizes(cfg: DemoConfig) -> dict[str, Any]:
    """Architecture arguments shared by pretraining and fine-tuning.

    Args:
        cfg: Demo settings.

    Returns:
        Keyword arguments for the tasks.
    """
    return {
        'model': 'spectral_vit_tiny',
        'patch_size': cfg.patch_size,
        'bands_per_token': cfg.bands_per_token,
        'embed_dim': cfg.embed_dim,
        'depth': cfg.depth,
        'num_heads': cfg.num_heads,
    }


def _trainer(
    folder: Path, name: str, epochs: int, monitor: str, val_every: int = 1
) -> Trainer:
    """A CPU trainer logging to CSV and keeping best and last checkpoints.

    Args:
        folder: Output folder.
        name: Run name (subfolder).
        epochs: Number of epochs.
        monitor: Metric to select the best checkpoint.
        val_every: Validate every this many epochs.

    Returns:
        The trainer.
    """
    checkpoints = folder / name / 'checkpoints'
    if checkpoints.is_dir():  # a previous demo run: start clean
        shutil.rmtree(checkpoints)
    checkpoint = ModelCheckpoint(dirpath=checkpoints, monitor=monitor, save_last=True)
    return Trainer(
        accelerator='cpu',
        devices=1,
        max_epochs=epochs,
        logger=CSVLogger(folder, name=name, version=''),
        callbacks=[checkpoint],
        log_every_n_steps=5,
        enable_model_summary=False,
        enable_progress_bar=False,  # the demo prints its own steps
        num_sanity_val_steps=0,
        check_val_every_n_epoch=val_every,
        default_root_dir=folder / name,
    )


def make_scene(cfg: DemoConfig, folder: Path) -> SyntheticScene:
    """Generate the scene and write ``scene.tif`` and ``labels.tif``.

    Args:
        cfg: Demo settings.
        folder: Output folder.

    Returns:
        The scene.
    """
    wavelengths, fwhm = demo_wavelengths(cfg.num_bands)
    scene = generate_scene(wavelengths, fwhm, size=cfg.size, seed=cfg.seed)
    write_scene(scene, folder)
    return scene


def pretrain(cfg: DemoConfig, scene: SyntheticScene, folder: Path) -> Path:
    """Pretrain the spectral MAE on unlabelled chips; export the encoder.

    Args:
        cfg: Demo settings.
        scene: The scene.
        folder: Output folder.

    Returns:
        Path of the last pretraining checkpoint.
    """
    seed_everything(cfg.seed, workers=True)
    train = SceneChips(
        scene,
        random_corners(cfg.size, cfg.chip_size, cfg.pretrain_chips, cfg.seed),
        cfg.chip_size,
    )
    val = SceneChips(scene, grid_corners(cfg.size, cfg.chip_size)[:64], cfg.chip_size)
    steps = cfg.pretrain_epochs * (len(train) // cfg.batch_size)
    task = SpectralMAETask(
        **_model_sizes(cfg),
        decoder_embed_dim=64,
        decoder_depth=1,
        decoder_num_heads=4,
        spatial_mask_ratio=0.6,
        spectral_mask_ratio=0.5,
        lr=2e-3,
        weight_decay=0.05,
        warmup_steps=max(1, steps // 10),
    )
    trainer = _trainer(folder, 'pretrain', cfg.pretrain_epochs, 'val_loss')
    trainer.fit(
        task,
        DataLoader(train, batch_size=cfg.batch_size, shuffle=True, drop_last=True),
        DataLoader(val, batch_size=cfg.batch_size),
    )
    task.export_encoder(folder / 'pretrain' / 'encoder.pt')
    callback = trainer.checkpoint_callback
    assert isinstance(callback, ModelCheckpoint)
    return Path(callback.last_model_path)


def split_pixels(
    cfg: DemoConfig, scene: SyntheticScene
) -> dict[str, NDArray[np.int64]]:
    """Spatially disjoint train/val/test pixels with few training labels.

    Args:
        cfg: Demo settings.
        scene: The scene.

    Returns:
        (N, 2) pixel arrays per split name.
    """
    from torchgeo_spectral.samplers import spatial_block_split

    split = spatial_block_split(
        scene.labels.astype(np.int64) + 1,
        patch_size=cfg.context,
        block_size=cfg.block_size,
        test_fraction=0.4,
        val_fraction=0.2,
        budget=cfg.labels_per_class,
        seed=cfg.seed,
    )
    rng = np.random.default_rng(cfg.seed)
    pixels = {}
    for name in ('train', 'val', 'test'):
        rows, cols = split.indices(name)
        pixels[name] = np.stack([rows, cols], axis=1).astype(np.int64)
    if len(pixels['val']) > cfg.max_eval:
        keep = rng.choice(len(pixels['val']), cfg.max_eval, replace=False)
        pixels['val'] = pixels['val'][np.sort(keep)]
    return pixels


def finetune(
    cfg: DemoConfig,
    scene: SyntheticScene,
    pixels: dict[str, NDArray[np.int64]],
    folder: Path,
    name: str,
    weights: Path | None,
) -> dict[str, float]:
    """Fine-tune a classifier on the training pixels and test it.

    Args:
        cfg: Demo settings.
        scene: The scene.
        pixels: Pixels per split.
        folder: Output folder.
        name: Run name.
        weights: Pretraining checkpoint, or None to train from scratch.

    Returns:
        Test metrics: overall accuracy and macro F1.
    """
    seed_everything(cfg.seed, workers=True)
    datasets = {
        split: PixelPatches(scene, pixels[split], cfg.context) for split in pixels
    }
    task = SpectralClassificationTask(
        **_model_sizes(cfg),
        weights=str(weights) if weights else None,
        num_classes=len(scene.classes),
        labels=list(scene.classes),
        lr=1e-3,
        # 80 steps of a 2-block model: the whole encoder trains at the head's
        # rate (the few-label defaults slow the encoder for long runs of
        # pretrained ViTs).
        backbone_lr_scale=1.0,
        layer_decay=1.0,
    )
    trainer = _trainer(folder, name, cfg.finetune_epochs, 'val_loss')
    batch = min(cfg.batch_size, len(datasets['train']))
    trainer.fit(
        task,
        DataLoader(datasets['train'], batch_size=batch, shuffle=True),
        DataLoader(datasets['val'], batch_size=256),
    )
    results = trainer.test(
        task,
        DataLoader(datasets['test'], batch_size=256),
        ckpt_path='best',
        verbose=False,
    )[0]
    return {
        'overall_accuracy': float(results['test_OverallAccuracy']),
        'macro_f1': float(results['test_AverageF1Score']),
    }


def write_metrics(rows: list[dict[str, Any]], path: Path) -> None:
    """Write the comparison table as CSV.

    Args:
        rows: One dict per model.
        path: Output file.
    """
    with path.open('w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def run_demo(cfg: DemoConfig) -> list[dict[str, Any]]:
    """Run the whole demo and print where its outputs are.

    Args:
        cfg: Demo settings.

    Returns:
        The rows of ``metrics.csv``.
    """
    start = time.perf_counter()
    folder = Path(cfg.output).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    scene = make_scene(cfg, folder)
    counts = np.bincount(scene.labels.ravel(), minlength=len(scene.classes))
    print(
        f'[demo] scene: {cfg.size}x{cfg.size} px, {scene.image.shape[0]} EnMAP bands '
        f'({scene.wavelengths[0]:.0f}-{scene.wavelengths[-1]:.0f} nm), '
        f'{scene.crs}; pixels per class: '
        + ', '.join(f'{c}={n}' for c, n in zip(scene.classes, counts, strict=True))
    )
    print('[demo] step 1/3: self-supervised pretraining (spectral MAE, no labels)')
    checkpoint = pretrain(cfg, scene, folder)
    pixels = split_pixels(cfg, scene)
    print(
        f'[demo] spatial block split: {len(pixels["train"])} training labels '
        f'({cfg.labels_per_class} per class), {len(pixels["val"])} val and '
        f'{len(pixels["test"])} test pixels in disjoint blocks'
    )
    print('[demo] step 2/3: fine-tuning the pretrained encoder')
    pretrained = finetune(cfg, scene, pixels, folder, 'finetune_pretrained', checkpoint)
    print('[demo] step 3/3: training the same model from scratch (same labels, steps)')
    scratch = finetune(cfg, scene, pixels, folder, 'finetune_scratch', None)
    rows = [
        {'model': 'pretrained (spectral MAE)', **pretrained},
        {'model': 'from scratch', **scratch},
    ]
    write_metrics(rows, folder / 'metrics.csv')
    elapsed = time.perf_counter() - start
    print(
        f'\n[demo] test set: {len(pixels["test"])} pixels in spatially disjoint blocks'
    )
    print(f'{"model":<28}{"OA":>8}{"macro F1":>10}')
    for row in rows:
        print(
            f'{row["model"]:<28}{row["overall_accuracy"]:>8.3f}{row["macro_f1"]:>10.3f}'
        )
    gain = pretrained['overall_accuracy'] - scratch['overall_accuracy']
    print(f'[demo] OA difference (pretrained - scratch): {gain:+.3f}')
    print(f'[demo] finished in {elapsed:.0f} s; outputs in {folder}:')
    print(f'  scene.tif, labels.tif        the synthetic GeoTIFFs ({scene.crs})')
    print('  pretrain/checkpoints/        MAE checkpoints; pretrain/encoder.pt encoder')
    print('  pretrain/figures/            reconstruction figures per validation epoch')
    print('  */metrics.csv                training curves; metrics.csv the comparison')
    _save_config(cfg, folder)
    return rows


def _save_config(cfg: DemoConfig, folder: Path) -> None:
    """Record the demo settings next to its outputs.

    Args:
        cfg: Demo settings.
        folder: Output folder.
    """
    lines = [f'{key}: {value}' for key, value in asdict(cfg).items()]
    (folder / 'demo_config.yaml').write_text('\n'.join(lines) + '\n')
