import pytest
import torch
from model_helpers import TINY, linear_wavelengths

from torchgeo_spectral.models import SpectralViT
from torchgeo_spectral.models.encoding import (
    SpectralEncoding,
    cached_sincos_2d,
    group_sigma,
    sincos_2d,
    spectral_sincos,
)


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(a, b, dim=-1).mean())


@pytest.mark.parametrize('dim', [32, 192, 384, 768])
def test_spectral_encoding_on_physical_scales(dim: int) -> None:
    centres = torch.linspace(400.0, 2000.0, 50)
    enc = spectral_sincos(centres, dim)
    assert _cosine(enc, spectral_sincos(centres + 10.0, dim)) > 0.9
    assert _cosine(enc, spectral_sincos(centres + 500.0, dim)) < 0.3
    # Similarity falls with distance.
    sims = [_cosine(enc, spectral_sincos(centres + d, dim)) for d in (10, 50, 200)]
    assert sims[0] > sims[1] > sims[2]


def test_width_damps_fine_scales() -> None:
    centres = torch.linspace(400.0, 2000.0, 50)
    narrow = spectral_sincos(centres, 192)
    wide = spectral_sincos(centres, 192, torch.full_like(centres, 30.0))
    wide_shift = spectral_sincos(centres + 20.0, 192, torch.full_like(centres, 30.0))
    narrow_shift = spectral_sincos(centres + 20.0, 192)
    assert _cosine(wide, wide_shift) > _cosine(narrow, narrow_shift)
    # Damping only shrinks: the longest periods are nearly untouched.
    assert torch.all(wide.abs() <= narrow.abs() + 1e-6)
    torch.testing.assert_close(wide[:, 95], narrow[:, 95], atol=1e-3, rtol=0)


def test_group_sigma() -> None:
    w = torch.tensor([[500.0, 510.0, 520.0]])
    sigma = group_sigma(w, 2)  # groups [500, 510] and [520]
    torch.testing.assert_close(sigma, torch.tensor([[5.0, 0.0]]))
    fwhm = torch.full((3,), 2.3548 * 4.0)
    with_fwhm = group_sigma(w, 2, fwhm)
    torch.testing.assert_close(
        with_fwhm, torch.tensor([[(25.0 + 16.0) ** 0.5, 4.0]]), rtol=1e-4, atol=1e-4
    )


def test_spectral_encoding_module_starts_as_sincos() -> None:
    module = SpectralEncoding(32)
    centres = torch.tensor([[450.0, 900.0]])
    torch.testing.assert_close(
        module(centres, torch.zeros_like(centres)), spectral_sincos(centres, 32)
    )
    with pytest.raises(ValueError, match='even dim'):
        spectral_sincos(centres, 31)


def test_sincos_2d_shape() -> None:
    assert sincos_2d(3, 5, 16).shape == (15, 16)


def test_cached_sincos_2d_is_sincos_2d_and_usable_with_autograd() -> None:
    # First built under inference mode (as tiled prediction does), the cached
    # encoding must still be an ordinary constant in a training step.
    with torch.inference_mode():
        first = cached_sincos_2d(3, 5, 16, device=torch.device('cpu'))
    assert not first.is_inference()
    again = cached_sincos_2d(3, 5, 16, device=torch.device('cpu'))
    assert again is first
    torch.testing.assert_close(first, sincos_2d(3, 5, 16))
    weight = torch.ones(16, requires_grad=True)
    (again * weight).sum().backward()
    assert weight.grad is not None


def test_fixed_fwhm_reaches_encoding() -> None:
    w = linear_wavelengths(16, 400.0, 1000.0)
    torch.manual_seed(0)
    narrow = SpectralViT(**TINY, wavelengths=w.tolist()).eval()
    torch.manual_seed(0)
    wide = SpectralViT(**TINY, wavelengths=w.tolist(), fwhm=[60.0] * 16).eval()
    x = torch.randn(1, 16, 8, 8)
    with torch.no_grad():
        assert not torch.allclose(narrow(x), wide(x))
        # Given explicitly, widths count for any wavelengths.
        fw = torch.full((16,), 60.0)
        torch.testing.assert_close(
            wide(x), narrow.forward_head(narrow.forward_tokens(x, w, fw))
        )
