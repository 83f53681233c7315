"""Positional encodings of spectral tokens: spatial (2-D sin-cos) and spectral.

Tokens of a :class:`~torchgeo_spectral.models.SpectralViT` carry two additive
encodings: a fixed 2-D sin-cos encoding of their patch position, computed on the
fly for any grid, and an encoding of their spectral group built from the group's
centre wavelength in nanometres (:func:`spectral_sincos`, on physical scales),
optionally refined by a small learned network of the centre and the width of the
group.

The spectral sin-cos encoding uses periods from 50 nm to 5000 nm (a geometric
ladder), not the Transformer's ``10000 ** (-i / half)`` ladder of raw
nanometres, whose shortest period (6.3 nm) made tokens 10 nm apart look unrelated
(cosine similarity 0.66) and broke transfer between sensors whose bands sit a few
nanometres apart. Each frequency is damped by the spectral extent of the token
(the Gaussian characteristic function of its response: band FWHM and the spread
of the group's band centres), so a broad token does not carry phase information
finer than what it measures.
"""

import functools
import math
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

_T = TypeVar('_T')

__all__ = [
    'FWHM_PER_SIGMA',
    'SPECTRAL_PERIODS_NM',
    'BandSetCache',
    'SpectralEncoding',
    'cached_sincos_2d',
    'group_sigma',
    'group_wavelengths',
    'sincos_1d',
    'sincos_2d',
    'spectral_sincos',
]

#: Base of the geometric frequency ladder, as in the Transformer and MAE encodings.
_TEMPERATURE = 10000.0

#: Shortest and longest period (nm) of the spectral sin-cos encoding.
SPECTRAL_PERIODS_NM = (50.0, 5000.0)

#: FWHM of a Gaussian response = this factor x its standard deviation.
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


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


def spectral_sincos(
    centres: Tensor,
    dim: int,
    sigma: Tensor | None = None,
    periods: tuple[float, float] = SPECTRAL_PERIODS_NM,
) -> Tensor:
    """Sin-cos encoding of wavelengths (nm) on physical scales.

    Channel ``i < dim/2`` holds ``a_i * sin(2 pi centre / P_i)`` and channel
    ``dim/2 + i`` holds ``a_i * cos(2 pi centre / P_i)``, with periods ``P_i``
    spaced geometrically from ``periods[0]`` to ``periods[1]`` and damping
    ``a_i = exp(-(2 pi sigma / P_i)^2 / 2)``: the expected value of the sin-cos
    pair over a Gaussian spectral response of standard deviation ``sigma``. With
    the default periods, encodings 10 nm apart have a cosine similarity above 0.9
    and encodings 500 nm apart near 0.

    Args:
        centres: Wavelengths in nm, any shape ``S``.
        dim: Even number of output channels.
        sigma: Spectral standard deviation (nm) of each token, broadcastable to
            ``S``, or ``None`` for infinitely narrow bands (no damping).
        periods: Shortest and longest period in nm.

    Returns:
        Encoding of shape ``(*S, dim)`` in float32.

    Raises:
        ValueError: If ``dim`` is odd or not positive.
    """
    if dim <= 0 or dim % 2:
        msg = f'sin-cos encoding needs a positive even dim, got {dim}'
        raise ValueError(msg)
    half = dim // 2
    shortest, longest = periods
    steps = torch.arange(half, device=centres.device, dtype=torch.float32)
    ratio = steps / max(half - 1, 1)
    omega = 2.0 * math.pi / (shortest * (longest / shortest) ** ratio)
    angles = centres.float().unsqueeze(-1) * omega
    enc = torch.cat([angles.sin(), angles.cos()], dim=-1)
    if sigma is not None:
        damp = torch.exp(-0.5 * (sigma.float().unsqueeze(-1) * omega) ** 2)
        enc = enc * torch.cat([damp, damp], dim=-1)
    return enc


def group_sigma(
    wavelengths: Tensor, bands_per_token: int, fwhm: Tensor | None = None
) -> Tensor:
    """Spectral standard deviation (nm) of each group of ``k`` bands.

    The group's response is taken as the equal mixture of its real bands'
    Gaussian responses: its variance is the variance of the band centres plus
    the mean band variance ``(FWHM / 2.355)^2`` (0 when ``fwhm`` is unknown).

    Args:
        wavelengths: Band centres ``(B, C)`` in nm.
        bands_per_token: Group size ``k``.
        fwhm: Band widths ``(B, C)`` or ``(C,)`` in nm, or ``None``.

    Returns:
        ``(B, G)`` standard deviations.
    """
    batch, num_bands = wavelengths.shape
    k = bands_per_token
    groups = -(-num_bands // k)
    pad = groups * k - num_bands
    valid = torch.ones(groups * k, dtype=torch.float32, device=wavelengths.device)
    w = wavelengths.float()
    f = None if fwhm is None else fwhm.float().expand(batch, num_bands)
    if pad:
        valid[num_bands:] = 0
        w = torch.cat([w, w[:, -1:].expand(batch, pad)], dim=1)
        if f is not None:
            f = torch.cat([f, f[:, -1:].expand(batch, pad)], dim=1)
    valid = valid.reshape(groups, k)
    count = valid.sum(-1)
    w = w.reshape(batch, groups, k)
    mean = (w * valid).sum(-1) / count
    var = ((w - mean[..., None]) ** 2 * valid).sum(-1) / count
    if f is not None:
        band_var = (f.reshape(batch, groups, k) / FWHM_PER_SIGMA) ** 2
        var = var + (band_var * valid).sum(-1) / count
    return var.sqrt()


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


@functools.lru_cache(maxsize=32)
def _cached_sincos_2d(
    grid_h: int, grid_w: int, dim: int, device: torch.device, dtype: torch.dtype
) -> Tensor:
    """:func:`sincos_2d` built once per grid, width, device and dtype.

    Built outside inference mode and without autograd, so the cached constant
    can be added to tensors that require gradients whatever mode first built it.
    """
    with torch.inference_mode(False), torch.no_grad():
        return sincos_2d(grid_h, grid_w, dim, device=device, dtype=dtype)


def cached_sincos_2d(
    grid_h: int,
    grid_w: int,
    dim: int,
    *,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """The fixed 2-D sin-cos encoding, computed once and shared (read-only).

    The models add it to every batch; building it costs about 20 small tensor
    operations (0.15 ms on a CPU thread, a noticeable share of a small training
    step), while it depends on the grid shape only. Callers must not modify the
    returned tensor in place. Arguments and result as for :func:`sincos_2d`.
    """
    if torch.compiler.is_compiling():  # traced once into the graph instead
        return sincos_2d(grid_h, grid_w, dim, device=device, dtype=dtype)
    return _cached_sincos_2d(grid_h, grid_w, dim, torch.device(device), dtype)


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


class BandSetCache:
    """Constants derived from one band set, kept while the band set stays the same.

    The fixed parts of the spectral encodings (group centres, widths and spectral
    spreads, their sin-cos encodings, the MAE decoder's encodings) depend on the
    wavelengths (and FWHM) only, never on a trained parameter, yet cost about 100
    small tensor operations per step, a few percent of a small training step.
    Training batches almost always share one band set, so the model keeps the
    constants of the last band set and rebuilds them when the values change.

    The key is compared by value (``torch.equal``: one small comparison, which on
    a GPU waits for the queue as the model's finite-value check already does).
    Entries are built without autograd and outside inference mode, so they serve
    training and inference alike; key tensors that require gradients bypass the
    cache (the result must then carry their gradient), and so does code traced by
    ``torch.compile``, which folds the constants into its graph without a
    comparison that would break it.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._key: tuple[Tensor | None, ...] = ()
        self._entries: dict[Hashable, Any] = {}

    def _matches(self, key: tuple[Tensor | None, ...]) -> bool:
        if len(key) != len(self._key):
            return False
        for new, old in zip(key, self._key, strict=True):
            if new is None or old is None:
                if new is not old:
                    return False
            elif (
                new.device != old.device
                or new.dtype != old.dtype
                or new.shape != old.shape
                or not torch.equal(new, old)
            ):
                return False
        return True

    def get(
        self, key: tuple[Tensor | None, ...], name: Hashable, build: Callable[[], _T]
    ) -> _T:
        """The entry ``name`` for the band set ``key``, built on a miss.

        Args:
            key: The tensors the entry is a function of (e.g. wavelengths and
                FWHM, ``None`` for an absent one).
            name: Which entry (one band set has several).
            build: Computes the entry from the tensors of ``key``.

        Returns:
            The cached or newly built entry (tensors that must not be modified in
            place).
        """
        if torch.compiler.is_compiling() or any(
            t is not None and t.requires_grad for t in key
        ):
            return build()
        with torch.inference_mode(False), torch.no_grad():
            if not self._matches(key):
                self._key = tuple(None if t is None else t.clone() for t in key)
                self._entries = {}
            if name not in self._entries:
                self._entries[name] = build()
        entry: _T = self._entries[name]
        return entry

    def clear(self) -> None:
        """Forget every entry."""
        self._key = ()
        self._entries = {}


class SpectralEncoding(nn.Module):
    """Encoding of spectral groups from their physical wavelengths.

    ``enc(g) = spectral_sincos(centre_g, sigma_g) + mlp([centre_g / 1000,
    width_g / 100])``: a fixed sin-cos encoding of the group centre in nm on
    physical scales (:func:`spectral_sincos`, damped by the group's spectral
    extent ``sigma_g`` when given), plus (optionally) a small learned MLP of the
    centre (in um) and width (in units of 100 nm). The MLP's output layer is
    zero-initialised, so at initialisation the encoding is the pure sin-cos one
    and transferred weights see a well-defined input.
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

    def forward(
        self, centres: Tensor, widths: Tensor, sigma: Tensor | None = None
    ) -> Tensor:
        """Encode spectral groups.

        Args:
            centres: Group centre wavelengths in nm, shape ``(B, G)``.
            widths: Group widths in nm, shape ``(B, G)``.
            sigma: Spectral standard deviation of each group in nm, ``(B, G)``
                (see :func:`group_sigma`), or ``None`` for no damping.

        Returns:
            Encodings of shape ``(B, G, dim)``.
        """
        return self.refine(spectral_sincos(centres, self.dim, sigma), centres, widths)

    def refine(self, sincos: Tensor, centres: Tensor, widths: Tensor) -> Tensor:
        """Add the learned refinement to a precomputed sin-cos encoding.

        :meth:`forward` is ``refine(spectral_sincos(centres, dim, sigma), centres,
        widths)``; the model calls ``refine`` with a cached sin-cos part (see
        :class:`BandSetCache`), so only the trained MLP runs every step.

        Args:
            sincos: ``(B, G, dim)`` sin-cos encoding of the groups.
            centres: Group centre wavelengths in nm, shape ``(B, G)``.
            widths: Group widths in nm, shape ``(B, G)``.

        Returns:
            Encodings of shape ``(B, G, dim)``.
        """
        if self.mlp is None:
            return sincos
        feats = torch.stack([centres / 1000.0, widths / 100.0], dim=-1)
        refined: Tensor = sincos + self.mlp(feats.to(sincos.dtype))
        return refined
