from typing import Any

import pytest
import torch
from model_helpers import TINY, linear_wavelengths

from torchgeo_spectral.models import (
    SpectralMAE,
    SpectralMask,
    SpectralViT,
    spectral_vit,
)


@pytest.mark.parametrize('num_bands', [3, 13, 103, 224, 425])
def test_mae_shapes(tiny_mae: SpectralMAE, num_bands: int) -> None:
    x = torch.randn(2, num_bands, 8, 8)
    out = tiny_mae(
        x, linear_wavelengths(num_bands), generator=torch.Generator().manual_seed(0)
    )
    groups = -(-num_bands // 8)
    assert out.pred.shape == out.target.shape == (2, groups * 4, 8 * 4 * 4)
    assert out.mask.shape == (2, groups * 4)
    assert out.num_groups == groups
    assert out.grid_size == (2, 2)
    assert out.loss.ndim == 0
    assert torch.isfinite(out.loss)


@pytest.mark.parametrize('mode', ['shared', 'per_position'])
@pytest.mark.parametrize('token_mode', ['joint', 'pooled'])
def test_mae_masked_count_and_backward(mode: str, token_mode: str) -> None:
    torch.manual_seed(0)
    encoder = SpectralViT(**TINY, token_mode=token_mode)  # type: ignore[arg-type]
    mae = SpectralMAE(
        encoder,
        decoder_embed_dim=32,
        decoder_depth=1,
        decoder_num_heads=2,
        spatial_mask_ratio=0.5,
        spectral_mask_ratio=0.5,
        spectral_mask_mode=mode,  # type: ignore[arg-type]
    )
    x = torch.randn(2, 32, 16, 16)  # G=4 groups, N=16 positions
    out = mae(x, linear_wavelengths(32), generator=torch.Generator().manual_seed(0))
    # 8 positions masked (32 tokens) + 2 of 4 groups at the 8 others (16 tokens)
    assert out.mask.sum(dim=1).tolist() == [48, 48]
    out.loss.backward()
    assert encoder.patch_embed.proj.weight.grad is not None
    assert mae.mask_token.grad is not None


def test_mae_deterministic_under_seed(tiny_mae: SpectralMAE) -> None:
    x = torch.randn(2, 13, 8, 8)
    w = linear_wavelengths(13)
    a = tiny_mae(x, w, generator=torch.Generator().manual_seed(5))
    b = tiny_mae(x, w, generator=torch.Generator().manual_seed(5))
    c = tiny_mae(x, w, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a.mask, b.mask)
    assert torch.equal(a.loss, b.loss)
    assert not torch.equal(a.mask, c.mask)


def test_only_visible_tokens_reach_encoder(tiny_mae: SpectralMAE) -> None:
    seen: list[int] = []
    handle = tiny_mae.encoder.blocks[0].register_forward_hook(
        lambda _m, args, _out: seen.append(args[0].shape[1])
    )
    tiny_mae(torch.randn(1, 32, 16, 16), linear_wavelengths(32))
    handle.remove()
    assert seen == [
        12
    ]  # 16 - round(0.6 * 16) = 6 positions x (4 - round(0.4 * 4)) = 2 groups


def test_default_targets_are_pixels(tiny_mae: SpectralMAE) -> None:
    x = torch.randn(1, 8, 8, 8) * 5 + 3
    out = tiny_mae(x, linear_wavelengths(8))
    assert tiny_mae.target == 'pixels'
    torch.testing.assert_close(out.target, tiny_mae.patchify(x))


def test_normalized_targets(tiny_mae: SpectralMAE) -> None:
    tiny_mae.target = 'normalized'
    x = torch.randn(1, 8, 8, 8) * 5 + 3
    out = tiny_mae(x, linear_wavelengths(8))
    torch.testing.assert_close(
        out.target.mean(-1), torch.zeros(1, 4), atol=1e-5, rtol=0
    )


def test_norm_pix_loss_alias() -> None:
    encoder = SpectralViT(**TINY)  # type: ignore[arg-type]
    assert SpectralMAE(encoder, norm_pix_loss=True).target == 'normalized'
    assert SpectralMAE(encoder, norm_pix_loss=False).target == 'pixels'
    assert not SpectralMAE(encoder).norm_pix_loss
    with pytest.raises(ValueError, match='target must be one of'):
        SpectralMAE(encoder, target='raw')  # type: ignore[arg-type]


def _stats_mae() -> SpectralMAE:
    torch.manual_seed(0)
    return SpectralMAE(
        SpectralViT(**TINY),  # type: ignore[arg-type]
        decoder_embed_dim=32,
        decoder_depth=1,
        decoder_num_heads=2,
        target='normalized+stats',
    )


def test_brightness_shows_in_targets(tiny_mae: SpectralMAE) -> None:
    """A dark and a bright cube of the same shape: only 'normalized' confuses them."""
    dark = torch.rand(1, 13, 8, 8)
    bright = dark * 3 + 5
    w = linear_wavelengths(13)
    raw_dark = tiny_mae(dark, w).target
    raw_bright = tiny_mae(bright, w).target
    assert (raw_bright - raw_dark).abs().min() > 4
    tiny_mae.target = 'normalized'
    torch.testing.assert_close(
        tiny_mae(dark, w).target, tiny_mae(bright, w).target, atol=1e-3, rtol=0
    )
    mae = _stats_mae()
    out_dark, out_bright = mae(dark, w), mae(bright, w)
    assert out_dark.target_stats is not None
    assert out_bright.target_stats is not None
    assert out_dark.pred_stats is not None
    assert out_dark.pred_stats.shape == (1, 8, 2)
    # Means differ by the offset (plus 3x the dark mean), stds by a factor 3.
    diff = out_bright.target_stats[..., 0] - out_dark.target_stats[..., 0]
    assert bool((diff > 5).all())
    torch.testing.assert_close(
        out_bright.target_stats[..., 1],
        3 * out_dark.target_stats[..., 1],
        rtol=1e-3,
        atol=1e-3,
    )


def _decode_seeded(
    mae: SpectralMAE, x: torch.Tensor, w: torch.Tensor
) -> tuple[torch.Tensor, SpectralMask]:
    """Predictions and mask of an 8 x 8, 2-group cube under a seeded mask."""
    mask = mae.draw_mask(2, 2, 4, generator=torch.Generator().manual_seed(0))
    latent, mask, centres = mae.forward_encoder(x, w, mask)
    return mae.forward_decoder(latent, mask, centres, (2, 2)), mask


@pytest.mark.parametrize('target', ['pixels', 'normalized', 'normalized+stats'])
def test_loss_ignores_padded_band_slots(tiny_mae: SpectralMAE, target: str) -> None:
    mae = _stats_mae() if target == 'normalized+stats' else tiny_mae
    mae.target = target  # type: ignore[assignment]
    x = torch.randn(2, 13, 8, 8)  # k = 8: group 1 has 5 real bands, 3 padding
    w = linear_wavelengths(13)
    with torch.no_grad():
        pred, mask = _decode_seeded(mae, x, w)
        loss = mae.forward_loss(x, pred, mask.mask)
        # Token values are ordered (band, row, col): slots 5..7 of group 1 pad.
        changed = pred.clone()
        changed[:, 4:, 5 * 16 : 8 * 16] += 100.0
        torch.testing.assert_close(mae.forward_loss(x, changed, mask.mask), loss)
        # The real slots do count.
        changed[:, 4:, : 5 * 16] += 1.0
        assert mae.forward_loss(x, changed, mask.mask) > loss
        # The padded input slots do not change normalized targets either.
        full = mae(x, w, mask=mask)
        torch.testing.assert_close(full.loss, loss)
        slots = mae.encoder.valid_slots(13)
        assert slots is not None
        assert slots.shape == (2, 128)
        assert int(slots[1].sum()) == 5 * 16


def test_visible_loss_weight_scores_visible_tokens_too(tiny_mae: SpectralMAE) -> None:
    x = torch.randn(2, 13, 8, 8)
    w = linear_wavelengths(13)
    with torch.no_grad():
        pred, mask = _decode_seeded(tiny_mae, x, w)
        masked_only = tiny_mae.forward_loss(x, pred, mask.mask)
        # an error on a visible token changes nothing by default
        shown = (~mask.mask).nonzero()[0]
        changed = pred.clone()
        changed[shown[0], shown[1]] += 1.0
        torch.testing.assert_close(
            tiny_mae.forward_loss(x, changed, mask.mask), masked_only
        )
        # with weight 0, the loss of the inverted mask is the visible tokens' mean
        visible = tiny_mae.forward_loss(x, pred, ~mask.mask)
        tiny_mae.visible_loss_weight = 0.5
        both = tiny_mae.forward_loss(x, pred, mask.mask)
    torch.testing.assert_close(both, masked_only + 0.5 * visible)
    with pytest.raises(ValueError, match='visible_loss_weight must be >= 0'):
        SpectralMAE(tiny_mae.encoder, decoder_embed_dim=32, visible_loss_weight=-1)


def test_forward_composes_encoder_decoder_loss(tiny_mae: SpectralMAE) -> None:
    x = torch.randn(2, 13, 8, 8)
    w = linear_wavelengths(13)
    out = tiny_mae(x, w, generator=torch.Generator().manual_seed(3))
    latent, mask, centres = tiny_mae.forward_encoder(
        x, w, generator=torch.Generator().manual_seed(3)
    )
    assert torch.equal(mask.mask, out.mask)
    pred = tiny_mae.forward_decoder(latent, mask, centres, out.grid_size)
    torch.testing.assert_close(pred, out.pred)
    torch.testing.assert_close(tiny_mae.forward_loss(x, pred, mask.mask), out.loss)


def test_patchify_roundtrip(tiny_mae: SpectralMAE) -> None:
    x = torch.randn(2, 13, 8, 12)
    tokens = tiny_mae.patchify(x)
    assert tokens.shape == (2, 2 * 6, 8 * 16)
    assert torch.equal(tiny_mae.unpatchify(tokens, 13, (2, 3)), x)


@pytest.mark.parametrize('target', ['pixels', 'normalized', 'normalized+stats'])
def test_reconstruct(tiny_mae: SpectralMAE, target: str) -> None:
    if target == 'normalized+stats':
        tiny_mae = _stats_mae()
    tiny_mae.target = target  # type: ignore[assignment]
    x = torch.randn(2, 13, 8, 8)
    gen = torch.Generator().manual_seed(0)
    recon, mask = tiny_mae.reconstruct(x, linear_wavelengths(13), generator=gen)
    assert recon.shape == mask.shape == x.shape
    assert mask.dtype == torch.bool
    out = tiny_mae(
        x, linear_wavelengths(13), generator=torch.Generator().manual_seed(0)
    )
    # Per band, the masked fraction equals that of the tokens of its group.
    token_mask = out.mask.reshape(2, 2, 4).float().mean(-1)  # (B, G)
    band_mask = mask.float().mean(dim=(2, 3))  # (B, C)
    torch.testing.assert_close(band_mask[:, :8], token_mask[:, :1].expand(2, 8))
    torch.testing.assert_close(band_mask[:, 8:], token_mask[:, 1:].expand(2, 5))


@pytest.mark.parametrize('token_mode', ['joint', 'pooled'])
def test_mae_with_wavelength_projection(token_mode: str) -> None:
    torch.manual_seed(0)
    encoder = SpectralViT(
        **TINY,  # type: ignore[arg-type]
        projection='wavelength',
        token_mode=token_mode,  # type: ignore[arg-type]
    )
    mae = SpectralMAE(
        encoder, decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2
    )
    out = mae(torch.randn(2, 13, 8, 8), linear_wavelengths(13))
    out.loss.backward()
    assert encoder.patch_embed.bases.grad is not None  # type: ignore[union-attr]


def _loss_and_grads(
    mae: SpectralMAE, x: torch.Tensor, wl: torch.Tensor, fwhm: torch.Tensor | None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    mae.zero_grad()
    loss = mae(x, wl, torch.Generator().manual_seed(0), fwhm=fwhm).loss
    loss.backward()
    grads = {n: p.grad.clone() for n, p in mae.named_parameters() if p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize('token_mode', ['joint', 'pooled'])
def test_band_set_cache_gives_uncached_loss_and_gradients(
    token_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cached band-set encodings change neither the loss nor any gradient."""
    builds = []
    original = spectral_vit.group_wavelengths

    def counted(*args: Any) -> tuple[torch.Tensor, torch.Tensor]:
        builds.append(1)
        return original(*args)

    monkeypatch.setattr(spectral_vit, 'group_wavelengths', counted)
    torch.manual_seed(0)
    encoder = SpectralViT(**TINY, token_mode=token_mode)  # type: ignore[arg-type]
    mae = SpectralMAE(
        encoder, decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2
    )
    with torch.no_grad():  # a trained refinement MLP, so that its gradient matters
        for param in encoder.spectral_embed.parameters():
            param.normal_(0.0, 0.1)
    x = torch.randn(2, 13, 8, 8)
    wl = linear_wavelengths(13)
    fwhm = torch.full((13,), 12.0)
    for fw in (None, fwhm):
        encoder.band_cache.clear()
        mae.band_cache.clear()
        fresh = _loss_and_grads(mae, x, wl, fw)
        cached = _loss_and_grads(mae, x, wl.clone(), fw)  # same values, new tensor
        assert len(builds) == 1  # the second step used the cached encodings
        builds.clear()
        torch.testing.assert_close(cached[0], fresh[0], rtol=0, atol=0)
        assert cached[1].keys() == fresh[1].keys()
        assert 'encoder.spectral_embed.mlp.0.weight' in cached[1]
        for name, grad in fresh[1].items():
            torch.testing.assert_close(cached[1][name], grad, rtol=0, atol=0)


def test_band_set_cache_follows_changed_wavelengths() -> None:
    """New wavelength values rebuild the encodings."""
    torch.manual_seed(0)
    model = SpectralViT(**TINY)
    x = torch.randn(1, 13, 8, 8)
    wl = linear_wavelengths(13)
    with torch.inference_mode():  # first built in inference mode, as prediction does
        model(x, wl)
    shifted = wl + 25.0
    out = model(x, shifted)
    model.band_cache.clear()
    torch.testing.assert_close(out, model(x, shifted), rtol=0, atol=0)
    assert not torch.allclose(out, model(x, wl))
    out.sum().backward()  # entries built under inference mode serve autograd too


def test_band_set_cache_bypassed_for_wavelengths_with_gradients() -> None:
    torch.manual_seed(0)
    model = SpectralViT(**TINY)
    wl = linear_wavelengths(13).requires_grad_(True)
    out = model(torch.randn(1, 13, 8, 8), wl)
    # The embedding comes out of a LayerNorm (unit gain at init), so its plain sum
    # is constant and its gradient is 0 up to rounding: weight the features.
    (out * torch.randn_like(out)).sum().backward()
    assert wl.grad is not None
    assert float(wl.grad.abs().sum()) > 0
