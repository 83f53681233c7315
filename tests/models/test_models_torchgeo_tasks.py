import pytest
import torch

import torchgeo_spectral.models  # noqa: F401  (registers the models)

tasks = pytest.importorskip('torchgeo.tasks')
pytestmark = pytest.mark.filterwarnings(
    r'ignore:You are trying to .self.log\(\).:UserWarning'
)


@pytest.mark.parametrize('decoder', ['unet', 'upernet'])
def test_semantic_segmentation_training_step(decoder: str) -> None:
    torch.manual_seed(0)
    task = tasks.SemanticSegmentation(
        model=decoder,
        backbone='tu-spectral_vit_tiny.sentinel2',
        in_channels=13,
        num_classes=4,
    )
    batch = {
        'image': torch.randn(2, 13, 32, 32),
        'mask': torch.randint(0, 4, (2, 32, 32)),
    }
    loss = task.training_step(batch, 0)
    loss.backward()
    assert torch.isfinite(loss)
    proj = task.model.encoder.model.model.patch_embed.proj
    assert proj.weight.grad is not None


def test_classification_training_step() -> None:
    torch.manual_seed(0)
    task = tasks.Classification(
        model='spectral_vit_tiny.sentinel2', in_channels=13, num_classes=5
    )
    batch = {'image': torch.randn(2, 13, 32, 32), 'label': torch.randint(0, 5, (2,))}
    loss = task.training_step(batch, 0)
    loss.backward()
    assert torch.isfinite(loss)
    assert task.model.get_classifier().weight.grad is not None
