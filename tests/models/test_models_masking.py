import warnings

import pytest
import torch
from model_helpers import linear_wavelengths

from torchgeo_spectral.models import SpectralMAE, two_stage_mask
from torchgeo_spectral.models.masking import SpectralMaskMode, masked_count


@pytest.mark.parametrize('mode', ['shared', 'per_position'])
@pytest.mark.parametrize(
    ('groups', 'positions', 'spatial', 'spectral'),
    [
        (4, 16, 0.5, 0.5),
        (28, 16, 0.75, 0.25),
        (1, 4, 0.5, 0.0),
        (7, 9, 0.0, 0.6),
        (3, 5, 0.3, 0.4),
    ],
)
def test_exact_masked_counts(
    mode: str, groups: int, positions: int, spatial: float, spectral: float
) -> None:
    gen = torch.Generator().manual_seed(1)
    out = two_stage_mask(3, groups, positions, spatial, spectral, mode, generator=gen)  # type: ignore[arg-type]
    keep_pos = positions - masked_count(spatial, positions)
    keep_grp = groups - masked_count(spectral, groups)
    assert out.mask.shape == (3, groups * positions)
    assert out.visible.shape == (3, keep_pos, keep_grp)
    expected_masked = groups * positions - keep_pos * keep_grp
    assert out.mask.sum(dim=1).tolist() == [expected_masked] * 3
    grid = out.mask.reshape(3, groups, positions)
    visible_positions = (~grid).any(dim=1)
    # Stage 1: exactly keep_pos positions keep any token.
    assert visible_positions.sum(dim=1).tolist() == [keep_pos] * 3
    # Stage 2: every kept position shows exactly keep_grp groups.
    per_position = (~grid).sum(dim=1)
    assert bool((per_position[visible_positions] == keep_grp).all())
    if mode == 'shared':
        for b in range(3):
            cols = (~grid[b])[:, visible_positions[b]]
            assert bool((cols == cols[:, :1]).all())


def test_per_position_draws_differ() -> None:
    gen = torch.Generator().manual_seed(0)
    out = two_stage_mask(1, 16, 64, 0.25, 0.5, 'per_position', generator=gen)
    grid = ~out.mask.reshape(16, 64)
    cols = grid[:, grid.any(dim=0)]
    assert not bool((cols == cols[:, :1]).all())


def test_mask_is_deterministic_under_seed() -> None:
    def draw(seed: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        return two_stage_mask(2, 6, 16, 0.5, 0.5, 'per_position', generator=gen).mask

    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3), draw(4))


@pytest.mark.parametrize(
    ('spatial', 'spectral', 'match'),
    [
        (1.0, 0.5, r'spatial_mask_ratio must be in \[0, 1\)'),
        (-0.1, 0.5, r'spatial_mask_ratio must be in \[0, 1\)'),
        (0.5, 1.5, r'spectral_mask_ratio must be in \[0, 1\)'),
        (0.9, 0.0, 'no visible token'),
    ],
)
def test_bad_ratios(spatial: float, spectral: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        two_stage_mask(1, 2, 1, spatial, spectral)


@pytest.mark.parametrize('mode', ['shared', 'per_position'])
def test_single_group_keeps_its_group(mode: SpectralMaskMode) -> None:
    out = two_stage_mask(2, 1, 16, 0.5, 0.5, mode)
    assert (~out.mask).sum(dim=1).tolist() == [8, 8]


@pytest.mark.parametrize(
    ('groups', 'positions', 'spatial', 'spectral'),
    [(1, 16, 0.0, 0.5), (4, 4, 0.1, 0.1)],
)
def test_mask_that_hides_nothing_warns(
    groups: int, positions: int, spatial: float, spectral: float
) -> None:
    with pytest.warns(UserWarning, match='masking hides no token'):
        out = two_stage_mask(2, groups, positions, spatial, spectral)
    assert not bool(out.mask.any())


def test_single_pixel_of_one_group_names_the_way_out() -> None:
    # 1 px pretraining tiles of a cube of <= 16 bands: nothing can be hidden
    with pytest.warns(UserWarning, match=r'one position per sample.*tile_size 5'):
        two_stage_mask(2, 1, 1, 0.0, 0.5)


def test_mask_that_hides_tokens_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        two_stage_mask(2, 1, 16, 0.25, 0.5)
        two_stage_mask(2, 4, 1, 0.0, 0.5)


def test_mae_rejects_bad_ratios_at_construction(tiny_mae: SpectralMAE) -> None:
    with pytest.raises(ValueError, match=r'\[0, 1\)'):
        SpectralMAE(tiny_mae.encoder, spatial_mask_ratio=1.0)
    with pytest.raises(ValueError, match='spectral_mask_mode'):
        SpectralMAE(tiny_mae.encoder, spectral_mask_mode='bogus')  # type: ignore[arg-type]


def test_mae_no_visible_token_at_forward() -> None:
    from model_helpers import TINY

    from torchgeo_spectral.models import SpectralViT

    mae = SpectralMAE(
        SpectralViT(**TINY),  # type: ignore[arg-type]
        decoder_embed_dim=32,
        decoder_depth=1,
        decoder_num_heads=2,
        spatial_mask_ratio=0.9,
    )
    with pytest.raises(ValueError, match='no visible token'):
        mae(torch.randn(1, 3, 4, 4), linear_wavelengths(3))
