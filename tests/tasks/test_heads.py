"""Pixel-level features: centre-token pooling, block probes and dense outputs."""

from typing import Any

import pytest
import torch
from lightning.pytorch import Trainer
from task_helpers import TINY, Cubes, loader, quiet_trainer, wavelengths

from torchgeo_spectral.models.heads import (
    HeadNorm,
    SpectralClassifier,
    SpectralDenseModel,
)
from torchgeo_spectral.tasks import (
    SpectralClassificationTask,
    SpectralPixelwiseRegressionTask,
    SpectralSegmentationTask,
)

PIXEL = {**TINY, 'patch_size': 1, 'depth': 2}


def _fit(task: Any, data: Cubes) -> Trainer:
    trainer = quiet_trainer(max_steps=1)
    trainer.fit(task, loader(data), loader(data))
    return trainer


def _classifier(pool: str, blocks: int = 1, **sizes: Any) -> SpectralClassifier:
    task = SpectralClassificationTask(
        **{**PIXEL, **sizes}, num_classes=3, pool=pool, probe_blocks=blocks
    )
    model = task.model
    assert isinstance(model, SpectralClassifier)
    return model.eval()


def test_head_norm_standardizes_fine_tuned_features_on_request() -> None:
    plain = SpectralClassificationTask(**PIXEL, num_classes=3).model.head
    assert isinstance(plain[0], torch.nn.Identity)
    head = SpectralClassificationTask(**PIXEL, num_classes=3, head_norm=True).model.head
    assert isinstance(head[0], HeadNorm)
    assert not head[0].affine
    _fit(
        SpectralClassificationTask(**PIXEL, num_classes=3, head_norm=True),
        Cubes(per_set=4, size=5),
    )


def test_head_norm_takes_a_training_batch_of_one() -> None:
    norm = HeadNorm(4).train()
    norm(torch.randn(8, 4) * 3 + 1)  # running statistics move off (0, 1)
    single = torch.randn(1, 4)
    expected = (single - norm.running_mean) / (norm.running_var + norm.eps).sqrt()
    assert torch.allclose(norm(single), expected, atol=1e-6)
    with pytest.raises(ValueError, match='more than 1 value'):
        torch.nn.BatchNorm1d(4, affine=False).train()(single)


def test_center_token_is_default_for_odd_windows() -> None:
    model = _classifier('auto')
    x, wl = torch.rand(2, 12, 5, 5), wavelengths(12)
    fmap = model.backbone.forward_feature_map(x, wl)
    assert torch.allclose(model.features(x, wl), fmap[:, :, 2, 2], atol=1e-6)


def test_mean_pool_for_even_grids_and_on_request() -> None:
    model = _classifier('auto')
    x, wl = torch.rand(2, 12, 4, 4), wavelengths(12)
    fmap = model.backbone.forward_feature_map(x, wl)
    assert torch.allclose(model.features(x, wl), fmap.mean(dim=(2, 3)), atol=1e-6)
    model = _classifier('mean')
    x = torch.rand(2, 12, 5, 5)
    fmap = model.backbone.forward_feature_map(x, wl)
    assert torch.allclose(model.features(x, wl), fmap.mean(dim=(2, 3)), atol=1e-6)


def test_center_pool_with_patches_takes_the_centre_pixels_patch() -> None:
    model = _classifier('center', patch_size=4)
    x, wl = torch.rand(1, 12, 8, 8), wavelengths(12)
    fmap = model.backbone.forward_feature_map(x, wl)
    # Pixel (4, 4) lies in patch (1, 1) of the 2 x 2 grid.
    assert torch.allclose(model.features(x, wl), fmap[:, :, 1, 1], atol=1e-6)


def test_concatenated_block_outputs() -> None:
    model = _classifier('center', blocks=2)
    x, wl = torch.rand(2, 12, 3, 3), wavelengths(12)
    features = model.features(x, wl)
    assert features.shape == (2, 2 * PIXEL['embed_dim'])
    last = model.backbone.forward_feature_map(x, wl)[:, :, 1, 1]
    assert torch.allclose(features[:, PIXEL['embed_dim'] :], last, atol=1e-6)
    assert model(x, wl).shape == (2, 3)
    with pytest.raises(ValueError, match='between 1 and the encoder depth 2'):
        _classifier('center', blocks=3)


def test_pixel_classification_trains_with_centre_labels() -> None:
    task = SpectralClassificationTask(
        **PIXEL, num_classes=3, freeze_backbone=True, probe_blocks=2
    )
    _fit(task, Cubes(per_set=4, size=5))


def _within_patch_varies(model: SpectralDenseModel) -> None:
    x, wl = torch.rand(1, 12, 8, 8), wavelengths(12)
    out = model.eval()(x, wl)
    patch = out[0, :, :4, :4].flatten(1)
    assert patch.std(dim=1).min() > 0


def test_dense_outputs_vary_within_a_patch() -> None:
    for task in (
        SpectralSegmentationTask(**TINY, num_classes=3),
        SpectralPixelwiseRegressionTask(**TINY, num_outputs=3),
    ):
        _within_patch_varies(task.model)


def _own_pixel_response(model: SpectralDenseModel) -> float:
    """How much more a pixel's output moves than its patch neighbours' when
    only that pixel's spectrum changes."""
    x, wl = torch.rand(1, 12, 8, 8), wavelengths(12)
    changed = x.clone()
    changed[0, :, 1, 1] = torch.rand(12) + 1.0
    with torch.no_grad():
        delta = (model.eval()(changed, wl) - model(x, wl)).abs().sum(dim=1)[0]
    patch = delta[:4, :4].flatten()
    others = torch.cat([patch[:5], patch[6:]])  # pixel (1, 1) is index 5
    return float(delta[1, 1] / others.median())


def test_dense_output_follows_the_pixel_spectrum() -> None:
    torch.manual_seed(0)
    with_skip = SpectralSegmentationTask(**TINY, num_classes=3).model
    torch.manual_seed(0)
    without = SpectralDenseModel(
        with_skip.backbone, 3, with_skip.head.classifier.in_channels, pixel_skip=False
    )
    assert _own_pixel_response(with_skip) > 2 * _own_pixel_response(without)


def test_dense_pixel_projection_takes_any_band_count() -> None:
    model = SpectralSegmentationTask(**TINY, num_classes=3).model
    for bands in (5, 12, 30):
        x = torch.rand(2, bands, 8, 8)
        assert model(x, wavelengths(bands)).shape == (2, 3, 8, 8)


def _abundance_data(outputs: int = 3) -> Cubes:
    data = Cubes(per_set=4)
    gen = torch.Generator().manual_seed(1)
    for sample in data.samples:
        sample['mask'] = torch.rand(outputs, 16, 16, generator=gen).softmax(dim=0)
    return data


def test_multi_output_abundances_sum_to_one() -> None:
    task = SpectralPixelwiseRegressionTask(
        **TINY, num_outputs=3, output_activation='softmax'
    )
    out = task(torch.rand(2, 12, 8, 8), wavelengths(12))
    assert out.shape == (2, 3, 8, 8)
    assert torch.allclose(out.sum(dim=1), torch.ones(2, 8, 8), atol=1e-5)
    _fit(task, _abundance_data())
    relu = SpectralPixelwiseRegressionTask(**TINY, output_activation='relu')
    assert (relu(torch.rand(1, 12, 8, 8), wavelengths(12)) >= 0).all()


def test_unlabelled_pixels_are_ignored() -> None:
    task = SpectralPixelwiseRegressionTask(**TINY, num_outputs=3, ignore_value=-1.0)
    data = _abundance_data()
    batch = {
        'image': torch.stack([s['image'] for s in data.samples[:2]]),
        'wavelength': wavelengths(12),
        'mask': torch.stack([s['mask'] for s in data.samples[:2]]),
    }
    y_hat = task(batch['image'], batch['wavelength'])
    _, (preds, _) = task.compute_loss(y_hat, batch, 'train')
    assert preds.shape == (2 * 16 * 16, 3)
    batch['mask'][0, :, :8] = float('nan')
    batch['mask'][1, 0, :4] = -1.0
    masked, (preds, targets) = task.compute_loss(y_hat, batch, 'train')
    assert preds.shape == (2 * 16 * 16 - 8 * 16 - 4 * 16, 3)
    assert torch.isfinite(masked)
    assert torch.isfinite(targets).all()
    batch['mask'][:] = float('nan')
    empty, metrics = task.compute_loss(y_hat, batch, 'train')
    assert metrics is None
    assert empty.item() == 0.0


def test_unknown_output_activation() -> None:
    with pytest.raises(ValueError, match="output_activation must be 'softmax'"):
        SpectralPixelwiseRegressionTask(**TINY, output_activation='tanh')  # type: ignore[arg-type]
