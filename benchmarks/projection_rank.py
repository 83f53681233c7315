"""How much spectral detail do an encoder's token projections keep?

A wavelength-generated projection (``SpectralViT(projection='wavelength')``) gives
every band a ``D``-vector kernel; a token is the kernel-weighted sum of its
group's band values. If the kernels of nearby bands are almost the same, a token
only sees its group's mean level and a narrow absorption feature inside the group
is lost before the first block. For the EnMAP band centres (224 bands) this
prints, per encoder, the effective rank of the centred band-by-width kernel
matrix (exp of the entropy of its normalized squared singular values), the share
of its variance in the top 3 directions, and the median cosine similarity of the
kernels of neighbouring bands and of bands 10 apart (about 60-100 nm)::

    python -m benchmarks.projection_rank
    python -m benchmarks.projection_rank --weights my_encoder.safetensors

Rows: ``random init`` (``spectral_vit_nano``, seed 0), the shipped checkpoint
``SPECTRAL_MAE_FOUNDATION`` and every ``--weights`` file. Seconds on a CPU.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch import Tensor

from torchgeo_spectral.models.spectral_vit import WavelengthPatchEmbed
from torchgeo_spectral.sensors import get_sensor
from torchgeo_spectral.tasks import SpectralClassificationTask


def kernel_statistics(kernels: Tensor) -> dict[str, float]:
    """Rank and smoothness of per-band kernels.

    Args:
        kernels: ``(C, D)`` kernels of ``C`` bands in wavelength order.

    Returns:
        ``effective_rank``, ``top3_variance``, ``cosine_neighbour`` and
        ``cosine_10_apart`` (medians over band pairs).
    """
    singular = torch.linalg.svdvals(kernels - kernels.mean(dim=0))
    share = singular.square() / singular.square().sum()
    entropy = -(share * share.clamp_min(1e-12).log()).sum()
    return {
        'effective_rank': float(entropy.exp()),
        'top3_variance': float(share[:3].sum()),
        'cosine_neighbour': float(
            F.cosine_similarity(kernels[1:], kernels[:-1], dim=1).median()
        ),
        'cosine_10_apart': float(
            F.cosine_similarity(kernels[10:], kernels[:-10], dim=1).median()
        ),
    }


def band_kernels(weights: str | None, wavelengths: Tensor) -> Tensor:
    """The ``(C, D)`` band kernels of an encoder (centre pixel of the patch).

    Args:
        weights: Shipped checkpoint name, weights file, or None (random init).
        wavelengths: Band centres (C,) in nm.

    Returns:
        The kernels.

    Raises:
        TypeError: If the encoder's projection is not wavelength-generated.
    """
    torch.manual_seed(0)
    task = SpectralClassificationTask(
        model='spectral_vit_nano', weights=weights, num_classes=2
    )
    embed = task.model.backbone.patch_embed
    if not isinstance(embed, WavelengthPatchEmbed):
        msg = f'{weights}: the projection is not generated from wavelengths'
        raise TypeError(msg)
    with torch.no_grad():
        kernels = embed.band_kernels(wavelengths[None], None)[0]  # (C, D, p * p)
    return kernels[:, :, kernels.shape[-1] // 2]


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--weights', nargs='*', default=[])
    args = parser.parse_args()
    wavelengths = torch.tensor(get_sensor('enmap').wavelengths, dtype=torch.float32)
    rows = {'random init': None, 'SPECTRAL_MAE_FOUNDATION': 'SPECTRAL_MAE_FOUNDATION'}
    rows |= {path: path for path in args.weights}
    print(
        '| Encoder | Effective rank | Top-3 variance | Cosine, neighbours '
        '| Cosine, 10 bands apart |'
    )
    print('|---|---|---|---|---|')
    for name, weights in rows.items():
        stats = kernel_statistics(band_kernels(weights, wavelengths))
        print(
            f'| {name} | {stats["effective_rank"]:.1f} | {stats["top3_variance"]:.2f} '
            f'| {stats["cosine_neighbour"]:.2f} | {stats["cosine_10_apart"]:.2f} |'
        )
    print(f'\nEnMAP band centres ({wavelengths.numel()} bands), spectral_vit_nano')


if __name__ == '__main__':
    main()
