import pytest
import torch
from model_helpers import TINY, linear_wavelengths

from torchgeo_spectral.models import SpectralViT
from torchgeo_spectral.models.spectral_vit import WavelengthPatchEmbed
from torchgeo_spectral.models.validation import all_finite


@pytest.mark.parametrize('num_bands', [1, 3, 13, 103, 224, 425])
def test_shapes_any_band_count(tiny_vit: SpectralViT, num_bands: int) -> None:
    x = torch.randn(2, num_bands, 8, 8)
    w = linear_wavelengths(num_bands)
    groups = -(-num_bands // 8)
    with torch.no_grad():
        assert tiny_vit.forward_tokens(x, w).shape == (2, groups * 4, 32)
        assert tiny_vit.forward_feature_map(x, w).shape == (2, 32, 2, 2)
        assert tiny_vit.forward_features(x, w).shape == (2, groups * 4, 32)
        assert tiny_vit(x, w).shape == (2, 32)


def test_non_square_input(tiny_vit: SpectralViT) -> None:
    x = torch.randn(1, 5, 8, 16)
    with torch.no_grad():
        assert tiny_vit.forward_feature_map(x, linear_wavelengths(5)).shape == (
            1,
            32,
            2,
            4,
        )


def test_per_sample_wavelengths_match_shared() -> None:
    torch.manual_seed(0)
    model = SpectralViT(**TINY).eval()
    x = torch.randn(2, 13, 8, 8)
    w = linear_wavelengths(13)
    with torch.no_grad():
        shared = model(x, w)
        per_sample = model(x, w[None].expand(2, -1))
        other = model(x, torch.stack([w, w + 10.0]))
    torch.testing.assert_close(shared, per_sample)
    torch.testing.assert_close(shared[0], other[0])
    assert not torch.allclose(shared[1], other[1])


def test_head_and_timm_conventions() -> None:
    model = SpectralViT(**TINY, num_classes=5)
    x = torch.randn(2, 3, 8, 8)
    w = linear_wavelengths(3)
    assert model(x, w).shape == (2, 5)
    assert model.num_features == model.embed_dim == 32
    assert model.get_classifier().out_features == 5  # type: ignore[union-attr]
    tokens = model.forward_features(x, w)
    assert model.forward_head(tokens, pre_logits=True).shape == (2, 32)
    model.reset_classifier(0)
    assert model.num_classes == 0
    assert model(x, w).shape == (2, 32)
    model.reset_classifier(7)
    assert model(x, w).shape == (2, 7)


def test_pooled_mode_has_one_token_per_patch() -> None:
    model = SpectralViT(**TINY, token_mode='pooled')
    x = torch.randn(2, 224, 16, 16)
    with torch.no_grad():
        assert model.forward_tokens(x, linear_wavelengths(224)).shape == (2, 16, 32)
        assert model.forward_feature_map(x, linear_wavelengths(224)).shape == (
            2,
            32,
            4,
            4,
        )


def test_fixed_wavelengths_used_by_default() -> None:
    w = linear_wavelengths(13)
    torch.manual_seed(0)
    model = SpectralViT(**TINY, wavelengths=w.tolist()).eval()
    x = torch.randn(1, 13, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x, w))
    assert model.in_chans == 13


@pytest.mark.parametrize('padding', ['mean', 'repeat', 'zero'])
def test_group_padding(padding: str) -> None:
    model = SpectralViT(**TINY, group_padding=padding)  # type: ignore[arg-type]
    x = torch.arange(3.0).reshape(1, 3, 1, 1).expand(1, 3, 4, 4)
    padded = model.group_bands(x)[0, :, 0, 0]
    expected = {
        'mean': [0, 1, 2, 1, 1, 1, 1, 1],
        'repeat': [0, 1, 2, 2, 2, 2, 2, 2],
        'zero': [0, 1, 2, 0, 0, 0, 0, 0],
    }[padding]
    assert padded.tolist() == expected


def test_backward_reaches_every_parameter(tiny_vit: SpectralViT) -> None:
    tiny_vit.reset_classifier(3)
    out = tiny_vit(torch.randn(2, 13, 8, 8), linear_wavelengths(13))
    out.sum().backward()
    missing = [n for n, p in tiny_vit.named_parameters() if p.grad is None]
    assert missing == []


def test_unknown_wavelengths_error(tiny_vit: SpectralViT) -> None:
    with pytest.raises(ValueError, match='wavelengths unknown: pass wavelengths='):
        tiny_vit(torch.randn(1, 3, 8, 8))


@pytest.mark.parametrize(
    ('x_shape', 'wavelengths', 'match'),
    [
        ((1, 3, 8, 8), [400.0, 500.0], 'expected C=3 .*found 2'),
        ((1, 3, 8, 10), [400.0, 500.0, 600.0], 'multiples of the patch size'),
        ((1, 3, 6, 8), [400.0, 500.0, 600.0], 'multiples of the patch size'),
        ((3, 8, 8), [400.0, 500.0, 600.0], r'\(B, C, H, W\)'),
    ],
)
def test_bad_inputs(
    tiny_vit: SpectralViT,
    x_shape: tuple[int, ...],
    wavelengths: list[float],
    match: str,
) -> None:
    with pytest.raises(ValueError, match=match):
        tiny_vit(torch.randn(*x_shape), torch.tensor(wavelengths))


def test_batch_wavelength_shape_mismatch(tiny_vit: SpectralViT) -> None:
    with pytest.raises(ValueError, match=r'expected wavelengths of shape \(2, 3\)'):
        tiny_vit(torch.randn(2, 3, 8, 8), torch.tensor([[400.0, 500.0, 600.0]] * 3))


def test_non_finite_input(tiny_vit: SpectralViT) -> None:
    x = torch.randn(1, 3, 8, 8)
    x[0, 1, 2, 3] = float('inf')
    with pytest.raises(ValueError, match='NaN or infinite'):
        tiny_vit(x, linear_wavelengths(3))


@pytest.mark.parametrize('value', [float('nan'), float('-inf')])
def test_all_finite_exact(value: float) -> None:
    x = torch.randn(2, 3, 4, 4)
    assert all_finite(x)
    x[1, 2, 3, 0] = value
    assert not all_finite(x)
    # Finite values whose sum overflows: the exact test decides, no false error.
    assert all_finite(torch.full((4, 4), 3e38))


def test_linear_projection_matches_convolution() -> None:
    # project() runs the patch kernel as one matrix product over patch_values;
    # it must give what the Conv2d over (B * G, k, H, W) gives, padded group too.
    torch.manual_seed(0)
    model = SpectralViT(**TINY)
    x = torch.randn(2, 13, 8, 12)
    wl = model.resolve_wavelengths(x, linear_wavelengths(13))
    tokens = model.project(x, wl)
    groups = model.num_groups(13)
    grid = model.patch_embed(model.group_bands(x).reshape(2 * groups, 8, 8, 12))
    expected = grid.flatten(2).transpose(1, 2).reshape(2, groups, 6, 32)
    torch.testing.assert_close(tokens, expected, rtol=1e-5, atol=1e-5)


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match='in_chans=4 disagrees'):
        SpectralViT(**TINY, wavelengths=[400.0, 500.0, 600.0], in_chans=4)
    with pytest.raises(ValueError, match='strictly increasing'):
        SpectralViT(**TINY, wavelengths=[500.0, 400.0])
    with pytest.raises(ValueError, match='token_mode'):
        SpectralViT(**TINY, token_mode='bogus')  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='embed_dim'):
        SpectralViT(embed_dim=30, num_heads=2, depth=1)


def test_wavelength_projection_follows_wavelength_not_position() -> None:
    torch.manual_seed(0)
    model = SpectralViT(**TINY, projection='wavelength')  # type: ignore[arg-type]
    embed = model.patch_embed
    assert isinstance(embed, WavelengthPatchEmbed)
    a = torch.tensor([[500.0, 510.0, 520.0, 530.0, 540.0, 550.0, 560.0, 570.0]])
    b = torch.tensor([[470.0, 480.0, 490.0, 500.0, 700.0, 800.0, 900.0, 950.0]])
    with torch.no_grad():
        ka, kb = embed.band_kernels(a, None), embed.band_kernels(b, None)
        # 500 nm is slot 0 of one sensor and slot 3 of the other: same kernel.
        torch.testing.assert_close(ka[0, 0], kb[0, 3])
        assert not torch.allclose(ka[0, 0], ka[0, 1])
        # Padding slots of the last group get no weight; real ones are rescaled.
        groups = embed.group_kernels(a[:, :5], None)
        assert groups.shape == (1, 1, 32, 8 * 16)
        assert torch.all(groups[0, 0, :, 5 * 16 :] == 0)
        torch.testing.assert_close(
            groups[0, 0, :, :16], ka[0, 0] * 8 / 5, rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize('num_bands', [3, 13])
def test_wavelength_projection_model(num_bands: int) -> None:
    torch.manual_seed(0)
    model = SpectralViT(**TINY, projection='wavelength').eval()  # type: ignore[arg-type]
    x = torch.randn(2, num_bands, 8, 8)
    w = linear_wavelengths(num_bands)
    with torch.no_grad():
        shared = model(x, w)
        per_sample = model(x, torch.stack([w, w + 10.0]))
    assert shared.shape == (2, 32)
    torch.testing.assert_close(shared[0], per_sample[0])
    assert not torch.allclose(shared[1], per_sample[1])
    assert model.config()['projection'] == 'wavelength'
    with pytest.raises(ValueError, match='projection'):
        SpectralViT(**TINY, projection='bogus')  # type: ignore[arg-type]


@pytest.mark.parametrize('projection', ['shared', 'wavelength'])
def test_embed_visible_matches_full_embedding(projection: str) -> None:
    torch.manual_seed(0)
    model = SpectralViT(**TINY, projection=projection)  # type: ignore[arg-type]
    x = torch.randn(2, 13, 8, 8)
    w = linear_wavelengths(13)
    index = torch.tensor([[0, 3, 5, 6], [1, 2, 4, 7]])
    with torch.no_grad():
        full, centres = model.embed(x, w)
        picked, centres_v = model.embed_visible(x, index, w[None].expand(2, -1))
    expected = full.flatten(1, 2).gather(1, index[..., None].expand(-1, -1, 32))
    torch.testing.assert_close(picked, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(centres, centres_v)


@pytest.mark.parametrize('size', [(5, 5), (7, 3), (1, 1)])
def test_pixel_features_at_patch_size_one(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    model = SpectralViT(**{**TINY, 'patch_size': 1}).eval()  # type: ignore[arg-type]
    x = torch.randn(1, 13, *size)
    with torch.no_grad():
        fmap = model.forward_feature_map(x, linear_wavelengths(13))
        assert fmap.shape == (1, 32, *size)
        # The centre pixel's feature changes when only that pixel changes.
        y = x.clone()
        y[..., size[0] // 2, size[1] // 2] += 1.0
        diff = (model.forward_feature_map(y, linear_wavelengths(13)) - fmap).abs()
    assert diff[..., size[0] // 2, size[1] // 2].sum() > 0
