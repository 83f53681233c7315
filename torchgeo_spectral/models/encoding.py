"""Positional encodings of spectral tokens: spatial (2-D sin-cos) and spectral.

Tokens of a :class:`~torchgeo_spectral.models.SpectralViT` carry two additive
encodings: a fixed 2-D sin-cos encoding of their patch position, computed on the
fly for any grid, and an encoding of their spectral group built from the group's
centre wavelength in nanometres (fixed sin-cos), optionally refined by a small
learned network of the centre and the width of the group.
"""

import torch
from torch import Tensor, nn

__all__ = ['SpectralEncoding', 'group_wavelengths', 'sincos_1d', 'sincos_2d']

#: Base of the geometric frequency ladder, as in the Transformer and MAE encodings.
_TEMPERATURE = 10000.0


def sincos_1d(positions: Tensor, dim: int) -> Tensor:
    """Sin-cos encoding of real-valued positions.

    Channel ``i < dim/2`` holds ``sin(pos * w_i)`` and channel ``dim/2 + i`` holds
    ``cos(pos * w_i)`` with ``w_i = 10000 ** (-i / (dim / 2))`` (MAE convention).

    Args:
        positions: Positions of any shape ``S`` (any unit; wavelengths use nm).
        dim: Even number of output channels.

    Returns:
        Encoding of shape ``(*S, dim)`` in the dtype of ``positions`` (float32 for
        integer input).

    Raises:
        ValueError: If ``dim`` is odd or not positive.
    """
    if dim <= 0 or dim % 2:
        msg = f'sin-cos encoding needs a positive even dim, got {dim}'
        raise ValueError(msg)
    dtype = positions.dtype if positions.is_floating_point() else torch.float32
    half = dim // 2
    omega = torch.arange(half, device=positions.device, dtype=torch.float64) / half
    omega = _TEMPERATURE**-omega
    angles = positions.to(torch.float64).unsqueeze(-1) * omega
    return torch.cat([angles.sin(), angles.cos()], dim=-1).to(dtype)


def sincos_2d(
    grid_h: int,
    grid_w: int,
    dim: int,
    *,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Fixed 2-D sin-cos encoding of a ``grid_h x grid_w`` patch grid.

    The first ``dim/2`` channels encode the row, the last ``dim/2`` the column
    (MAE's ``get_2d_sincos_pos_embed``), so any grid size works without
    interpolation.

    Args:
        grid_h: Number of patch rows.
        grid_w: Number of patch columns.
        dim: Number of channels, a multiple of 4.
        device: Device of the result.
        dtype: Floating dtype of the result.

    Returns:
        Encoding of shape ``(grid_h * grid_w, dim)``, rows in row-major order.

    Raises:
        ValueError: If ``dim`` is not a positive multiple of 4.
    """
    if dim <= 0 or dim % 4:
        msg = f'2-D sin-cos encoding needs dim divisible by 4, got {dim}'
        raise ValueError(msg)
    rows = torch.arange(grid_h, device=device, dtype=torch.float64)
    cols = torch.arange(grid_w, device=device, dtype=torch.float64)
    rr, cc = torch.meshgrid(rows, cols, indexing='ij')
    enc = torch.cat([sincos_1d(rr, dim // 2), sincos_1d(cc, dim // 2)], dim=-1)
    return enc.reshape(grid_h * grid_w, dim).to(dtype)


def group_wavelengths(
    wavelengths: Tensor, bands_per_token: int
) -> tuple[Tensor, Tensor]:
    """Centre and width of each spectral group of ``k`` neighbouring bands.

    Bands ``[g*k, (g+1)*k)`` form group ``g``; the last group may hold fewer than
    ``k`` real bands (padding slots do not count). The centre is the mean of the
    real band centres of the group, the width the span between its first and last
    real band centre (0 for a single-band group).

    Args:
        wavelengths: Band centres in nm, shape ``(B, C)``, strictly increasing.
        bands_per_token: Group size ``k``.

    Returns:
        ``(centres, widths)``, both of shape ``(B, G)`` with ``G = ceil(C / k)``.
    """
    batch, num_bands = wavelengths.shape
    k = bands_per_token
    groups = -(-num_bands // k)
    pad = groups * k - num_bands
    w = wavelengths
    if pad:
        w = torch.cat([w, w[:, -1:].expand(batch, pad)], dim=1)
    w = w.reshape(batch, groups, k)
    valid = torch.ones(groups * k, dtype=w.dtype, device=w.device)
    if pad:
        valid[num_bands:] = 0
    valid = valid.reshape(groups, k)
    centres = (w * valid).sum(-1) / valid.sum(-1)
    widths = w[..., -1] - w[..., 0]
    return centres, widths


class SpectralEncoding(nn.Module):
    """Encoding of spectral groups from their physical wavelengths.

    ``enc(g) = sincos(centre_g) + mlp([centre_g / 1000, width_g / 100])``: a fixed
    sin-cos encoding of the group centre in nm, plus (optionally) a small learned
    MLP of the centre (in um) and width (in units of 100 nm). The MLP's output
    layer is zero-initialised, so at initialisation the encoding is the pure
    sin-cos one and transferred weights see a well-defined input.
    """

    def __init__(self, dim: int, *, learned: bool = True, hidden_dim: int = 64) -> None:
        """Initialise the encoding.

        Args:
            dim: Token width (even).
            learned: Whether to add the learned refinement MLP.
            hidden_dim: Hidden width of the MLP.
        """
        super().__init__()
        self.dim = dim
        self.mlp: nn.Sequential | None = None
        if learned:
            self.mlp = nn.Sequential(
                nn.Linear(2, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, dim)
            )
            last = self.mlp[2]
            assert isinstance(last, nn.Linear)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, centres: Tensor, widths: Tensor) -> Tensor:
        """Encode spectral groups.

        Args:
            centres: Group centre wavelengths in nm, shape ``(B, G)``.
            widths: Group widths in nm, shape ``(B, G)``.

        Returns:
            Encodings of shape ``(B, G, dim)``.
        """
        enc = sincos_1d(centres.float(), self.dim)
        if self.mlp is not None:
            feats = torch.stack([centres / 1000.0, widths / 100.0], dim=-1)
            enc = enc + self.mlp(feats.to(enc.dtype))
        return enc
