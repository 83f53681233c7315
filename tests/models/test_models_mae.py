import pytest
import torch
from model_helpers import TINY, linear_wavelengths

from torchgeo_spectral.models import SpectralMAE, SpectralViT


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


def test_norm_pix_loss_targets(tiny_mae: SpectralMAE) -> None:
    x = torch.randn(1, 8, 8, 8) * 5 + 3
    out = tiny_mae(x, linear_wavelengths(8))
    torch.testing.assert_close(
        out.target.mean(-1), torch.zeros(1, 4), atol=1e-5, rtol=0
    )
    tiny_mae.norm_pix_loss = False
    raw = tiny_mae(x, linear_wavelengths(8))
    torch.testing.assert_close(raw.target, tiny_mae.patchify(x))


def test_patchify_roundtrip(tiny_mae: SpectralMAE) -> None:
    x = torch.randn(2, 13, 8, 12)
    tokens = tiny_mae.patchify(x)
    assert tokens.shape == (2, 2 * 6, 8 * 16)
    assert torch.equal(tiny_mae.unpatchify(tokens, 13, (2, 3)), x)


@pytest.mark.parametrize('norm_pix', [True, False])
def test_reconstruct(tiny_mae: SpectralMAE, norm_pix: bool) -> None:
    tiny_mae.norm_pix_loss = norm_pix
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
