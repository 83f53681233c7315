import numpy as np
import pytest
import timm
import torch
from model_helpers import linear_wavelengths

import torchgeo_spectral.models  # noqa: F401  (registers the models)
from torchgeo_spectral.models import SpectralFeaturePyramid, SpectralViT
from torchgeo_spectral.sensors import get_sensor

SMALL = {'depth': 1}


@pytest.mark.parametrize(
    'arch',
    [
        'spectral_vit_nano',
        'spectral_vit_tiny',
        'spectral_vit_small',
        'spectral_vit_base',
    ],
)
def test_registered(arch: str) -> None:
    assert arch in timm.list_models('spectral_vit*')
    cfg = timm.models.get_pretrained_cfg(f'{arch}.enmap')
    assert cfg is not None
    assert cfg.sensor == 'enmap'  # type: ignore[attr-defined]


def test_sensor_tag_with_num_classes_and_in_chans() -> None:
    model = timm.create_model(
        'spectral_vit_small.enmap', num_classes=6, in_chans=224, **SMALL
    )
    assert isinstance(model, SpectralViT)
    assert model.embed_dim == 384
    assert model.num_heads == 6
    assert model.num_classes == 6
    assert model.in_chans == 224
    assert model.pretrained_cfg['sensor'] == 'enmap'
    assert model.default_cfg['sensor'] == 'enmap'
    assert model.wavelengths is not None
    expected = torch.tensor(np.array(get_sensor('enmap').wavelengths))
    assert torch.equal(model.wavelengths, expected)
    with torch.no_grad():
        assert model(torch.randn(1, 224, 16, 16)).shape == (1, 6)


def test_sensor_tag_in_chans_mismatch() -> None:
    with pytest.raises(ValueError, match=r'expects in_chans=224 .*got in_chans=3'):
        timm.create_model('spectral_vit_small.enmap', in_chans=3, **SMALL)


def test_wavelengths_kwarg() -> None:
    w = linear_wavelengths(10).tolist()
    model = timm.create_model(
        'spectral_vit_tiny', wavelengths=w, num_classes=2, **SMALL
    )
    assert model.in_chans == 10
    with torch.no_grad():
        assert model(torch.randn(2, 10, 16, 16)).shape == (2, 2)
    with pytest.raises(ValueError, match='in_chans=3 disagrees'):
        timm.create_model('spectral_vit_tiny', wavelengths=w, in_chans=3, **SMALL)
    with pytest.raises(ValueError, match='fixes the enmap wavelengths'):
        timm.create_model('spectral_vit_tiny.enmap', wavelengths=w, **SMALL)


def test_untagged_without_wavelengths_needs_them_at_forward() -> None:
    model = timm.create_model('spectral_vit_tiny', **SMALL)
    with pytest.raises(ValueError, match=r'spectral_vit_small.enmap'):
        model(torch.randn(1, 3, 16, 16))
    with torch.no_grad():
        assert model(torch.randn(1, 3, 16, 16), linear_wavelengths(3)).shape == (1, 192)


def test_pretrained_without_weights_errors() -> None:
    with pytest.raises(
        RuntimeError, match=r'no released weights for spectral_vit_small.enmap'
    ):
        timm.create_model('spectral_vit_small.enmap', pretrained=True)


@pytest.mark.parametrize(
    ('sensor', 'bands'), [('rgb', 3), ('sentinel2', 13), ('aviris_ng', 425)]
)
def test_tags_per_sensor(sensor: str, bands: int) -> None:
    model = timm.create_model(f'spectral_vit_tiny.{sensor}', **SMALL)
    assert model.in_chans == bands
    assert model.pretrained_cfg['input_size'][0] == bands


def test_features_only() -> None:
    model = timm.create_model(
        'spectral_vit_tiny.sentinel2',
        features_only=True,
        out_indices=(0, 1, 2, 3),
        **SMALL,
    )
    assert isinstance(model, SpectralFeaturePyramid)
    assert model.feature_info.reduction() == [4, 8, 16, 32]
    assert model.feature_info.channels() == [48, 96, 192, 192]
    with torch.no_grad():
        feats = model(torch.randn(1, 13, 64, 64))
    assert [tuple(f.shape) for f in feats] == [
        (1, 48, 16, 16),
        (1, 96, 8, 8),
        (1, 192, 4, 4),
        (1, 192, 2, 2),
    ]
    subset = timm.create_model(
        'spectral_vit_tiny.sentinel2', features_only=True, out_indices=(2, 3), **SMALL
    )
    assert subset.feature_info.reduction() == [16, 32]


def test_features_only_small_patch() -> None:
    model = SpectralFeaturePyramid(
        SpectralViT(embed_dim=32, depth=1, num_heads=2, patch_size=8),
        out_indices=(0, 1, 2, 3),
    )
    with torch.no_grad():
        feats = model(torch.randn(1, 3, 32, 32), linear_wavelengths(3))
    assert [tuple(f.shape) for f in feats] == [
        (1, 16, 8, 8),
        (1, 32, 4, 4),
        (1, 32, 2, 2),
        (1, 32, 1, 1),
    ]


def test_unknown_pretrained_tag_lists_valid_tags() -> None:
    with pytest.raises(ValueError, match='unknown pretrained tag') as info:
        timm.create_model('spectral_vit_tiny.foo')
    message = str(info.value)
    assert "'spectral_vit_tiny.foo'" in message
    assert 'spectral_vit_tiny.enmap' in message
    assert 'spectral_vit_tiny.sentinel2' in message


def test_features_only_pixel_tokens_odd_window() -> None:
    """p = 1 on an odd window: the pyramid builds on the full-resolution map."""
    torch.manual_seed(0)
    vit = SpectralViT(embed_dim=32, depth=1, num_heads=2, patch_size=1)
    model = SpectralFeaturePyramid(vit, out_indices=(0, 1, 2, 3))
    x = torch.randn(1, 5, 5, 5)
    with torch.no_grad():
        feats = model(x, linear_wavelengths(5))
        fmap = vit.forward_feature_map(x, linear_wavelengths(5))
    assert fmap.shape == (1, 32, 5, 5)
    assert [tuple(f.shape) for f in feats] == [(1, 32, 2, 2)] + [(1, 32, 1, 1)] * 3
    torch.testing.assert_close(feats[3], fmap.amax(dim=(2, 3), keepdim=True))


def test_one_builder_makes_distinct_entry_points() -> None:
    from torchgeo_spectral.models import registry

    names = timm.list_models('spectral_vit*')
    for arch in registry.ARCHITECTURES:
        entry = timm.models.model_entrypoint(arch)
        assert entry.__name__ == arch
        assert entry.__module__ == registry.__name__
        assert arch in names
    assert 'spectral_vit_nano.mae_foundation' in timm.list_pretrained('spectral_vit*')


def test_nano_architecture() -> None:
    model = timm.create_model('spectral_vit_nano', num_classes=0)
    config = model.config()
    assert {k: config[k] for k in ('embed_dim', 'depth', 'num_heads')} == {
        'embed_dim': 128,
        'depth': 4,
        'num_heads': 4,
    }
    assert config['patch_size'] == 1
    assert config['bands_per_token'] == 16
    assert config['token_mode'] == 'joint'
    assert config['projection'] == 'wavelength'
    fmap = model.forward_feature_map(torch.rand(2, 7, 5, 5), linear_wavelengths(7))
    assert fmap.shape == (2, 128, 5, 5)
