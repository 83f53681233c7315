from pathlib import Path

import pytest
import timm
import torch
from model_helpers import linear_wavelengths
from timm.models.vision_transformer import VisionTransformer

from torchgeo_spectral.models import SpectralViT, TransferReport, load_imagenet_weights


@pytest.fixture(scope='module')
def vit_tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    vit = timm.create_model('vit_tiny_patch16_224', pretrained=False)
    path = tmp_path_factory.mktemp('timm') / 'vit_tiny.pth'
    torch.save(vit.state_dict(), path)
    return path


def test_blocks_bit_identical(vit_tiny_file: Path) -> None:
    state = torch.load(vit_tiny_file, weights_only=True)
    model = SpectralViT(
        embed_dim=192, depth=12, num_heads=3, patch_size=16, bands_per_token=8
    )
    report = load_imagenet_weights(model, vit_tiny_file)
    assert isinstance(report, TransferReport)
    for name in ['blocks.0.attn.qkv.weight', 'blocks.11.mlp.fc2.bias', 'norm.weight']:
        assert torch.equal(model.state_dict()[name], state[name])
        assert name in report.taken
    assert torch.equal(model.patch_embed.proj.bias, state['patch_embed.proj.bias'])
    assert report.adapted == ['patch_embed.proj.weight']
    assert set(report.ignored) == {'cls_token', 'pos_embed', 'head.weight', 'head.bias'}
    assert all(n.startswith('spectral_embed.') for n in report.new)
    text = str(report)
    assert 'taken (' in text
    assert 'adapted (1): patch_embed.proj.weight' in text
    assert 'blocks.*.attn.qkv.weight (x12)' in text


def test_patch_projection_mapping(vit_tiny_file: Path) -> None:
    state = torch.load(vit_tiny_file, weights_only=True)
    model = SpectralViT(
        embed_dim=192, depth=12, num_heads=3, patch_size=16, bands_per_token=4
    )
    load_imagenet_weights(model, state)
    kernel = model.patch_embed.proj.weight
    expected = state['patch_embed.proj.weight'].sum(dim=1) / 4
    for slot in range(4):
        torch.testing.assert_close(kernel[:, slot], expected)
    # A group token equals the ImageNet embedding of the grey image of its band mean.
    x = torch.rand(1, 4, 16, 16)
    grey = x.mean(dim=1, keepdim=True).expand(1, 3, 16, 16)
    ours = model.patch_embed(x)
    rgb = torch.nn.functional.conv2d(
        grey,
        state['patch_embed.proj.weight'],
        state['patch_embed.proj.bias'],
        stride=16,
    )
    torch.testing.assert_close(ours, rgb, atol=1e-5, rtol=1e-4)


def test_patch_size_resampled() -> None:
    vit = VisionTransformer(
        img_size=32, patch_size=16, embed_dim=32, depth=2, num_heads=2
    )
    model = SpectralViT(
        embed_dim=32, depth=2, num_heads=2, patch_size=4, bands_per_token=2
    )
    report = load_imagenet_weights(model, vit.state_dict())
    assert model.patch_embed.proj.weight.shape == (32, 2, 4, 4)
    assert 'patch_embed.proj.weight' in report.adapted
    with torch.no_grad():
        assert model(torch.randn(1, 5, 8, 8), linear_wavelengths(5)).shape == (1, 32)


def test_fc_norm_source_is_adapted() -> None:
    vit = VisionTransformer(
        img_size=32,
        patch_size=16,
        embed_dim=32,
        depth=2,
        num_heads=2,
        global_pool='avg',
    )
    state = vit.state_dict()
    assert 'fc_norm.weight' in state
    assert 'norm.weight' not in state
    model = SpectralViT(embed_dim=32, depth=2, num_heads=2, patch_size=16)
    report = load_imagenet_weights(model, state)
    assert 'norm.weight' in report.adapted
    assert torch.equal(model.norm.weight, state['fc_norm.weight'])


def test_width_mismatch() -> None:
    vit = VisionTransformer(
        img_size=32, patch_size=16, embed_dim=48, depth=2, num_heads=2
    )
    model = SpectralViT(embed_dim=32, depth=2, num_heads=2)
    with pytest.raises(ValueError, match=r'width 48 .*embed_dim 32'):
        load_imagenet_weights(model, vit.state_dict())


def test_depth_mismatch() -> None:
    vit = VisionTransformer(
        img_size=32, patch_size=16, embed_dim=32, depth=3, num_heads=2
    )
    model = SpectralViT(embed_dim=32, depth=2, num_heads=2)
    with pytest.raises(ValueError, match='3 blocks but the model has 2'):
        load_imagenet_weights(model, vit.state_dict())
    report = load_imagenet_weights(model, vit.state_dict(), allow_depth_mismatch=True)
    assert any(n.startswith('blocks.2.') for n in report.ignored)


def test_safetensors_and_missing_file(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    vit = VisionTransformer(
        img_size=32, patch_size=16, embed_dim=32, depth=2, num_heads=2
    )
    path = tmp_path / 'vit.safetensors'
    save_file({k: v.contiguous() for k, v in vit.state_dict().items()}, str(path))
    model = SpectralViT(embed_dim=32, depth=2, num_heads=2)
    load_imagenet_weights(model, path)
    assert torch.equal(model.blocks[1].mlp.fc1.weight, vit.blocks[1].mlp.fc1.weight)
    with pytest.raises(FileNotFoundError):
        load_imagenet_weights(model, tmp_path / 'nope.pth')


def test_timm_name_failure_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise OSError('network unreachable')

    monkeypatch.setattr(timm, 'create_model', offline)
    model = SpectralViT(embed_dim=32, depth=2, num_heads=2)
    with pytest.raises(RuntimeError, match='could not get pretrained timm weights'):
        load_imagenet_weights(model, 'vit_small_patch16_224')


def test_wavelength_projection_takes_blocks_only(vit_tiny_file: Path) -> None:
    state = torch.load(vit_tiny_file, weights_only=True)
    model = SpectralViT(
        embed_dim=192,
        depth=12,
        num_heads=3,
        patch_size=16,
        bands_per_token=8,
        projection='wavelength',
    )
    report = load_imagenet_weights(model, vit_tiny_file)
    assert torch.equal(
        model.state_dict()['blocks.3.attn.proj.weight'],
        state['blocks.3.attn.proj.weight'],
    )
    assert 'patch_embed.bases' in report.new
    assert 'patch_embed.proj.weight' in report.ignored
