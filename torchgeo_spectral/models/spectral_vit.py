"""SpectralViT: a Vision Transformer over (spectral group x spatial patch) tokens."""

import math
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from timm.models.vision_transformer import Block
from torch import Tensor, nn

from ..wavelengths import check_wavelengths, to_nanometers
from .encoding import (
    FWHM_PER_SIGMA,
    BandSetCache,
    SpectralEncoding,
    cached_sincos_2d,
    group_sigma,
    group_wavelengths,
    spectral_sincos,
)
from .validation import WavelengthsLike, check_cube, prepare_wavelengths

__all__ = [
    'Projection',
    'SpectralPatchEmbed',
    'SpectralPooling',
    'SpectralViT',
    'TokenMode',
    'WavelengthPatchEmbed',
]

#: How tokens enter the transformer blocks (see :class:`SpectralViT`).
TokenMode = Literal['joint', 'pooled']

#: How a token's ``k*p*p`` values are projected (see :class:`SpectralViT`).
Projection = Literal['shared', 'wavelength']

#: How the last spectral group is filled when ``C`` is not a multiple of ``k``.
GroupPadding = Literal['mean', 'repeat', 'zero']

_UNKNOWN_WAVELENGTHS = (
    'wavelengths unknown: pass wavelengths=... or construct with a sensor tag such '
    'as spectral_vit_small.enmap'
)


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` with ``eps=1e-6``, as in timm's ViTs."""

    def __init__(self, dim: int, **kwargs: Any) -> None:
        """Initialise the norm.

        Args:
            dim: Normalised width.
            **kwargs: ``device`` / ``dtype`` factory arguments.
        """
        super().__init__(dim, eps=1e-6, **kwargs)


def vit_blocks(
    dim: int,
    depth: int,
    num_heads: int,
    mlp_ratio: float,
    *,
    qkv_bias: bool = True,
    drop_rate: float = 0.0,
    attn_drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
) -> nn.Sequential:
    """A stack of timm ViT blocks, as the encoder and the MAE decoder use them.

    Args:
        dim: Token width.
        depth: Number of blocks.
        num_heads: Attention heads per block.
        mlp_ratio: Hidden width of the block MLPs relative to ``dim``.
        qkv_bias: Whether the attention projections have biases.
        drop_rate: Dropout after the attention and MLP projections.
        attn_drop_rate: Attention dropout.
        drop_path_rate: Stochastic depth of the last block; it increases linearly
            from 0 over the blocks.

    Returns:
        The blocks, with :class:`LayerNorm` (``eps=1e-6``) as in timm's ViTs.
    """
    dpr = [float(v) for v in torch.linspace(0, drop_path_rate, depth)]
    return nn.Sequential(
        *[
            Block(
                dim=dim,
                num_heads=num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                proj_drop=drop_rate,
                attn_drop=attn_drop_rate,
                drop_path=dpr[i],
                norm_layer=LayerNorm,
            )
            for i in range(depth)
        ]
    )


def init_linear_weights(modules: Iterable[nn.Module]) -> None:
    """Initialize linear layers as timm and MAE ViTs do.

    Weights get a truncated normal of std 0.02 and biases zeros; other modules
    (and layers initialized on purpose, such as zero-initialized scores, when
    they are not passed) keep their weights.

    Args:
        modules: Modules to visit; only :class:`torch.nn.Linear` ones change.
    """
    for module in modules:
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


class SpectralPatchEmbed(nn.Module):
    """Shared linear projection of the ``k*p*p`` values of every (group, patch).

    A ``Conv2d(k, D, p, stride=p)`` applied to each group of ``k`` bands (the batch
    and group axes are merged), i.e. a ``Conv3d`` with kernel and stride
    ``(k, p, p)``; its name mirrors timm's ``patch_embed.proj``.
    """

    def __init__(self, bands_per_token: int, patch_size: int, embed_dim: int) -> None:
        """Initialise the projection.

        Args:
            bands_per_token: Bands per token ``k``.
            patch_size: Patch size ``p``.
            embed_dim: Token width ``D``.
        """
        super().__init__()
        self.proj = nn.Conv2d(
            bands_per_token, embed_dim, kernel_size=patch_size, stride=patch_size
        )

    def forward(self, groups: Tensor) -> Tensor:
        """Project grouped patches.

        Args:
            groups: ``(B * G, k, H, W)`` band groups.

        Returns:
            ``(B * G, D, H / p, W / p)`` token features.
        """
        out: Tensor = self.proj(groups)
        return out

    def project_values(self, values: Tensor) -> Tensor:
        """Project token value vectors with the same kernel as :meth:`forward`.

        One matrix product over the ``k*p*p`` values of each token, the ``Conv2d``
        written as the linear map it is (stride equals kernel). On a CPU it takes
        a third to a half of the time of the convolution on the ``(B * G, k, H,
        W)`` layout, forward and backward, and the values are needed anyway (MAE
        targets, visible-token gathers).

        Args:
            values: ``(..., k * p * p)`` token values ordered ``(band, row, col)``
                (:meth:`SpectralViT.patch_values`).

        Returns:
            ``(..., D)`` token features.
        """
        return F.linear(values, self.proj.weight.flatten(1), self.proj.bias)


class WavelengthPatchEmbed(nn.Module):
    """Patch projection whose weights are generated from each band's wavelength.

    The DOFA idea in a light form: the ``D x p x p`` kernel of a band is a mix of
    ``R`` learned basis kernels, ``W(band) = sum_r a_r(band) B_r``, with unit-norm
    coefficients ``a(band)`` given by a small MLP of the band's spectral sin-cos
    encoding (its centre, damped by its FWHM when known; see
    :func:`~torchgeo_spectral.models.encoding.spectral_sincos`). A token of a group
    of ``k`` bands is ``sum_j W(band_j) x_j * k / n_real + bias`` (``n_real``:
    the group's real bands; padding slots get no weight). The same wavelength
    therefore gets the same weight on every sensor, whatever its band position.
    """

    def __init__(
        self,
        bands_per_token: int,
        patch_size: int,
        embed_dim: int,
        *,
        num_bases: int = 32,
        encoding_dim: int = 64,
        hidden_dim: int = 128,
    ) -> None:
        """Initialise the projection.

        Args:
            bands_per_token: Bands per token ``k``.
            patch_size: Patch size ``p``.
            embed_dim: Token width ``D``.
            num_bases: Number ``R`` of basis kernels.
            encoding_dim: Width of the wavelength encoding fed to the MLP.
            hidden_dim: Hidden width of the coefficient MLP.
        """
        super().__init__()
        self.bands_per_token = bands_per_token
        self.patch_size = patch_size
        self.embed_dim = embed_dim
        self.encoding_dim = encoding_dim
        fan_in = bands_per_token * patch_size * patch_size
        std = math.sqrt(2.0 / (fan_in + embed_dim))
        self.bases = nn.Parameter(
            torch.randn(num_bases, embed_dim, patch_size * patch_size) * std
        )
        self.bias = nn.Parameter(torch.zeros(embed_dim))
        self.coefficients = nn.Sequential(
            nn.Linear(encoding_dim, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, num_bases),
        )

    def band_kernels(self, wavelengths: Tensor, fwhm: Tensor | None) -> Tensor:
        """Kernels of single bands.

        Args:
            wavelengths: Band centres ``(B, C)`` in nm.
            fwhm: Band widths ``(B, C)`` in nm or ``None``.

        Returns:
            ``(B, C, D, p * p)`` kernels.
        """
        sigma = None if fwhm is None else fwhm / FWHM_PER_SIGMA
        enc = spectral_sincos(wavelengths, self.encoding_dim, sigma)
        coef: Tensor = self.coefficients(enc)
        coef = coef / coef.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        return torch.einsum('bcr,rdv->bcdv', coef, self.bases)

    def group_kernels(self, wavelengths: Tensor, fwhm: Tensor | None) -> Tensor:
        """Kernels of the spectral groups (padding slots zero).

        Args:
            wavelengths: Band centres ``(B, C)`` in nm (rows may be identical).
            fwhm: Band widths ``(B, C)`` in nm or ``None``.

        Returns:
            ``(B, G, D, k * p * p)`` kernels, values ordered ``(band, row, col)``.
        """
        batch, bands = wavelengths.shape
        k = self.bands_per_token
        groups = -(-bands // k)
        pad = groups * k - bands
        kernels = self.band_kernels(wavelengths, fwhm)  # (B, C, D, pp)
        if pad:
            kernels = torch.cat(
                [kernels, kernels.new_zeros(batch, pad, *kernels.shape[2:])], 1
            )
        kernels = kernels.reshape(batch, groups, k, self.embed_dim, -1)
        real = torch.full((groups,), float(k), device=kernels.device)
        real[-1] = k - pad
        kernels = kernels * (k / real)[None, :, None, None, None]
        return kernels.transpose(2, 3).reshape(batch, groups, self.embed_dim, -1)

    def forward(
        self, values: Tensor, wavelengths: Tensor, fwhm: Tensor | None = None
    ) -> Tensor:
        """Project token values.

        Args:
            values: ``(B, G, N, k * p * p)`` token values (band-group padded).
            wavelengths: Band centres ``(B, C)`` in nm.
            fwhm: Band widths ``(B, C)`` in nm or ``None``.

        Returns:
            ``(B, G, N, D)`` tokens.
        """
        shared = wavelengths.shape[0] == 1 or wavelengths.stride(0) == 0
        if not shared:
            shared = bool(
                torch.equal(wavelengths, wavelengths[:1].expand_as(wavelengths))
            )
        if shared:
            kernels = self.group_kernels(
                wavelengths[:1], None if fwhm is None else fwhm[:1]
            )[0]
            tokens = torch.einsum('bgnv,gdv->bgnd', values, kernels.to(values.dtype))
        else:
            kernels = self.group_kernels(wavelengths, fwhm)
            tokens = torch.einsum('bgnv,bgdv->bgnd', values, kernels.to(values.dtype))
        return tokens + self.bias.to(tokens.dtype)


class SpectralPooling(nn.Module):
    """Attention pooling of the spectral groups of each patch into one token.

    ``pooled(n) = sum_g softmax_g(score(t_gn)) * t_gn`` with a learned linear score.
    The score is zero-initialised, so pooling starts as the plain mean over groups.
    """

    def __init__(self, dim: int) -> None:
        """Initialise the pooling.

        Args:
            dim: Token width.
        """
        super().__init__()
        self.score = nn.Linear(dim, 1)
        nn.init.zeros_(self.score.weight)
        nn.init.zeros_(self.score.bias)

    def forward(self, tokens: Tensor) -> Tensor:
        """Pool over the group axis.

        Args:
            tokens: Tokens of shape ``(B, G, N, D)``.

        Returns:
            Pooled tokens of shape ``(B, N, D)``.
        """
        weights: Tensor = self.score(tokens).softmax(dim=1)
        return (weights * tokens).sum(dim=1)


class SpectralViT(nn.Module):
    """ViT encoder for spectral cubes with any number of bands.

    A cube ``x`` of shape ``(B, C, H, W)`` with band centres ``wavelengths`` (nm,
    strictly increasing) is cut into ``p x p`` spatial patches and spectral groups
    of ``k`` neighbouring bands (``G = ceil(C / k)`` groups, ``N = HW / p^2``
    patches). When ``C`` is not a multiple of ``k`` the last group is padded
    (``group_padding``): ``'mean'`` (default) fills the empty slots with the mean of
    the group's real bands, so the group mean (what the ImageNet-initialised
    projection sees, see :func:`load_imagenet_weights`) is unchanged; ``'repeat'``
    repeats the last band; ``'zero'`` fills zeros. Padding slots never count in the
    group's centre wavelength.

    Each (group, patch) token is one shared linear projection of its ``k*p*p``
    values (``patch_embed.proj``, a ``Conv2d(k, D, p, stride=p)`` applied to every
    group, equivalent to a ``Conv3d`` with kernel and stride ``(k, p, p)``) plus a
    fixed 2-D sin-cos encoding of the patch position and a
    :class:`SpectralEncoding` of the group. Tokens are ordered group-major
    (token ``g * N + n``) and run through timm
    :class:`~timm.models.vision_transformer.Block` s, so ImageNet ViT weights load.

    ``token_mode='joint'`` attends over all ``G * N`` tokens (quadratic in the band
    count). ``token_mode='pooled'`` pools the ``G`` encoded tokens of every patch
    into one (:class:`SpectralPooling`) before the blocks, so attention runs over
    ``N`` tokens whatever ``C`` is: the cheap mode for hundreds of bands.

    ``projection='shared'`` (default) projects every group with one shared kernel
    (initialisable from an ImageNet RGB kernel, :func:`load_imagenet_weights`);
    ``projection='wavelength'`` generates each band's kernel from its wavelength
    (and FWHM when known) with :class:`WavelengthPatchEmbed`, so a weight belongs
    to a wavelength rather than to a band position within the group.

    Attributes:
        num_features: Width of the pooled embedding (``embed_dim``).
        embed_dim: Token width ``D``.
        num_classes: Number of classes of the head (0: no head).
        wavelengths: Band centres fixed at construction (buffer) or ``None``.
    """

    wavelengths: Tensor | None
    fwhm: Tensor | None

    def __init__(
        self,
        *,
        patch_size: int = 16,
        bands_per_token: int = 8,
        embed_dim: int = 384,
        depth: int = 12,
        num_heads: int = 6,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        num_classes: int = 0,
        global_pool: str = 'avg',
        token_mode: TokenMode = 'joint',
        spectral_mlp: bool = True,
        group_padding: GroupPadding = 'mean',
        projection: Projection = 'shared',
        wavelengths: WavelengthsLike | None = None,
        fwhm: WavelengthsLike | None = None,
        sensor: str | None = None,
        in_chans: int | None = None,
        check_finite: bool = True,
    ) -> None:
        """Initialise the encoder.

        Args:
            patch_size: Spatial patch size ``p``.
            bands_per_token: Number ``k`` of neighbouring bands per token.
            embed_dim: Token width ``D`` (a multiple of 4 and of ``num_heads``).
            depth: Number of transformer blocks.
            num_heads: Attention heads per block.
            mlp_ratio: Hidden width of the block MLPs relative to ``D``.
            qkv_bias: Whether the attention projections have biases.
            drop_rate: Dropout on tokens and before the head.
            attn_drop_rate: Attention dropout.
            drop_path_rate: Stochastic depth, linearly increasing over blocks.
            num_classes: Classes of the linear head; 0 returns the pooled embedding.
            global_pool: ``'avg'`` (mean over tokens; the only pooling supported).
            token_mode: ``'joint'`` or ``'pooled'`` (see the class docstring).
            spectral_mlp: Whether the spectral encoding has a learned refinement.
            group_padding: ``'mean'``, ``'repeat'`` or ``'zero'`` for the last group.
            projection: ``'shared'`` or ``'wavelength'`` (see the class docstring).
            wavelengths: Default band centres (nm) used when ``forward`` gets none.
            fwhm: Band widths (nm) that go with ``wavelengths``; they damp the
                spectral encoding (and shape wavelength-generated kernels) when
                ``forward`` gets no wavelengths.
            sensor: Name of the sensor ``wavelengths`` come from (metadata).
            in_chans: Expected band count; must equal ``len(wavelengths)`` when both
                are given. The encoder itself accepts any ``C``.
            check_finite: Whether ``forward`` rejects non-finite inputs.

        Raises:
            ValueError: For inconsistent sizes or invalid wavelengths.
        """
        super().__init__()
        if patch_size < 1 or bands_per_token < 1:
            msg = (
                f'patch_size and bands_per_token must be >= 1, got {patch_size} and '
                f'{bands_per_token}'
            )
            raise ValueError(msg)
        if embed_dim % 4 or embed_dim % num_heads:
            msg = (
                f'embed_dim must be divisible by 4 and by num_heads, got embed_dim='
                f'{embed_dim}, num_heads={num_heads}'
            )
            raise ValueError(msg)
        if token_mode not in ('joint', 'pooled'):
            msg = f"token_mode must be 'joint' or 'pooled', got {token_mode!r}"
            raise ValueError(msg)
        if group_padding not in ('mean', 'repeat', 'zero'):
            msg = f"group_padding must be 'mean', 'repeat' or 'zero', got {group_padding!r}"
            raise ValueError(msg)
        if projection not in ('shared', 'wavelength'):
            msg = f"projection must be 'shared' or 'wavelength', got {projection!r}"
            raise ValueError(msg)
        if global_pool not in ('avg', ''):
            msg = f"global_pool must be 'avg' (mean over tokens), got {global_pool!r}"
            raise ValueError(msg)

        self.patch_size = patch_size
        self.bands_per_token = bands_per_token
        self.embed_dim = embed_dim
        self.num_features = embed_dim
        self.head_hidden_size = embed_dim
        self.depth = depth
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.num_classes = num_classes
        self.global_pool = 'avg'
        self.num_prefix_tokens = 0
        self.token_mode: TokenMode = token_mode
        self.spectral_mlp = spectral_mlp
        self.group_padding: GroupPadding = group_padding
        self.projection: Projection = projection
        self.sensor = sensor
        self.check_finite = check_finite
        self.grad_checkpointing = False
        #: Fixed encodings of the last band set seen (see :class:`BandSetCache`).
        self.band_cache = BandSetCache()

        self._init_wavelengths(wavelengths, fwhm, in_chans)

        self.patch_embed: SpectralPatchEmbed | WavelengthPatchEmbed = (
            SpectralPatchEmbed(bands_per_token, patch_size, embed_dim)
            if projection == 'shared'
            else WavelengthPatchEmbed(bands_per_token, patch_size, embed_dim)
        )
        self.spectral_embed = SpectralEncoding(embed_dim, learned=spectral_mlp)
        self.spectral_pool = (
            SpectralPooling(embed_dim) if token_mode == 'pooled' else None
        )
        self.pos_drop = nn.Dropout(drop_rate)
        self.blocks = vit_blocks(
            embed_dim,
            depth,
            num_heads,
            mlp_ratio,
            qkv_bias=qkv_bias,
            drop_rate=drop_rate,
            attn_drop_rate=attn_drop_rate,
            drop_path_rate=drop_path_rate,
        )
        self.norm = LayerNorm(embed_dim)
        self.head_drop = nn.Dropout(drop_rate)
        self.head: nn.Module = (
            nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        )
        self.default_cfg: dict[str, Any] = {}
        self.pretrained_cfg: dict[str, Any] = self.default_cfg
        self._init_weights()

    # ------------------------------------------------------------------ set-up

    def _init_wavelengths(
        self,
        wavelengths: WavelengthsLike | None,
        fwhm: WavelengthsLike | None,
        in_chans: int | None,
    ) -> None:
        """Store the default wavelengths (and FWHM) as buffers after validation.

        Args:
            wavelengths: Default band centres or ``None``.
            fwhm: Band widths or ``None``.
            in_chans: Expected band count or ``None``.

        Raises:
            ValueError: If the wavelengths are invalid or disagree with ``in_chans``.
        """
        w: Tensor | None = None
        f: Tensor | None = None
        if wavelengths is not None:
            w = torch.tensor(np.array(wavelengths, dtype=np.float64))
            if w.ndim != 1 or w.numel() == 0:
                msg = f'wavelengths must have shape (C,), found {tuple(w.shape)}'
                raise ValueError(msg)
            check_wavelengths(to_nanometers(w, 'nm', source='SpectralViT wavelengths'))
            if in_chans is not None and in_chans != w.numel():
                msg = (
                    f'in_chans={in_chans} disagrees with the {w.numel()} wavelengths '
                    f'given (expected C={w.numel()})'
                )
                raise ValueError(msg)
            if fwhm is not None:
                f = torch.tensor(np.array(fwhm, dtype=np.float64))
                if f.shape != w.shape:
                    msg = f'expected {w.numel()} fwhm values, found {tuple(f.shape)}'
                    raise ValueError(msg)
        self.in_chans = int(w.numel()) if w is not None else in_chans
        self.register_buffer('wavelengths', w, persistent=False)
        self.register_buffer('fwhm', f, persistent=False)

    def _init_weights(self) -> None:
        """Initialise weights as timm/MAE ViTs do (zero-init layers are kept)."""
        if isinstance(self.patch_embed, SpectralPatchEmbed):
            proj = self.patch_embed.proj
            nn.init.xavier_uniform_(proj.weight.view(proj.weight.shape[0], -1))
            if proj.bias is not None:
                nn.init.zeros_(proj.bias)
        init_linear_weights([*self.blocks.modules(), self.head])

    # ------------------------------------------------------------- timm API

    def get_classifier(self) -> nn.Module:
        """Return the classification head (timm convention)."""
        return self.head

    def reset_classifier(
        self, num_classes: int, global_pool: str | None = None
    ) -> None:
        """Replace the head (timm convention).

        Args:
            num_classes: New number of classes; 0 removes the head.
            global_pool: Ignored unless given, then must be ``'avg'``.

        Raises:
            ValueError: For an unsupported ``global_pool``.
        """
        if global_pool not in (None, 'avg', ''):
            msg = f"global_pool must be 'avg', got {global_pool!r}"
            raise ValueError(msg)
        self.num_classes = num_classes
        self.head = (
            nn.Linear(self.embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        )

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Enable activation checkpointing of the blocks (timm convention).

        Args:
            enable: Whether to checkpoint.
        """
        self.grad_checkpointing = enable

    def no_weight_decay(self) -> set[str]:
        """Parameter names to exclude from weight decay (none; timm convention).

        Returns:
            An empty set.
        """
        return set()

    # --------------------------------------------------------------- tokens

    def num_groups(self, num_bands: int) -> int:
        """Number of spectral groups ``G = ceil(C / k)``.

        Args:
            num_bands: Band count ``C``.

        Returns:
            ``G``.
        """
        return math.ceil(num_bands / self.bands_per_token)

    def resolve_wavelengths(
        self, x: Tensor, wavelengths: WavelengthsLike | None
    ) -> Tensor:
        """Validated band centres of a batch, falling back to the fixed ones.

        Args:
            x: Input cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None`` for
                the wavelengths fixed at construction.

        Returns:
            Wavelengths of shape ``(B, C)``.

        Raises:
            ValueError: If no wavelengths are known or they do not fit ``x``.
        """
        if wavelengths is None:
            wavelengths = self.wavelengths
            if wavelengths is None:
                raise ValueError(_UNKNOWN_WAVELENGTHS)
        return prepare_wavelengths(wavelengths, x.shape[0], x.shape[1], x.device)

    def group_bands(self, x: Tensor) -> Tensor:
        """Pad the band axis to ``G * k`` bands (see ``group_padding``).

        Args:
            x: Cube ``(B, C, H, W)``.

        Returns:
            Cube ``(B, G * k, H, W)``.
        """
        batch, bands, height, width = x.shape
        pad = self.num_groups(bands) * self.bands_per_token - bands
        if pad == 0:
            return x
        if self.group_padding == 'zero':
            fill = x.new_zeros(batch, pad, height, width)
        elif self.group_padding == 'repeat':
            fill = x[:, -1:].expand(batch, pad, height, width)
        else:
            real = bands - (self.bands_per_token - pad)
            fill = (
                x[:, real:].mean(dim=1, keepdim=True).expand(batch, pad, height, width)
            )
        return torch.cat([x, fill], dim=1)

    def resolve_fwhm(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None,
        fwhm: WavelengthsLike | None,
    ) -> Tensor | None:
        """Band widths of a batch: given ones, else the fixed ones for fixed bands.

        Args:
            x: Input cube ``(B, C, H, W)``.
            wavelengths: The wavelengths passed to the model (``None``: fixed ones).
            fwhm: ``(C,)`` or ``(B, C)`` band widths in nm, or ``None``.

        Returns:
            ``(B, C)`` widths, or ``None`` when unknown.
        """
        if fwhm is None:
            if wavelengths is not None or self.fwhm is None:
                return None
            fwhm = self.fwhm
        f = torch.as_tensor(fwhm, device=x.device, dtype=torch.float32)
        batch, bands = x.shape[:2]
        if f.shape not in ((bands,), (batch, bands)):
            msg = (
                f'expected fwhm of shape ({bands},) or ({batch}, {bands}) (one per band '
                f'of the input), found {tuple(f.shape)}'
            )
            raise ValueError(msg)
        return f.expand(batch, bands)

    def spectral_encoding(
        self, wavelengths: Tensor, fwhm: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Spectral encoding of every group.

        Args:
            wavelengths: ``(B, C)`` band centres in nm.
            fwhm: ``(B, C)`` band widths in nm, or ``None``.

        Returns:
            ``(encoding, centres)``: ``(B, G, D)`` and group centres ``(B, G)``.
        """
        k, dim = self.bands_per_token, self.embed_dim

        def fixed() -> tuple[Tensor, Tensor, Tensor]:
            centres, widths = group_wavelengths(wavelengths, k)
            sigma = group_sigma(wavelengths, k, fwhm)
            return centres, widths, spectral_sincos(centres, dim, sigma)

        centres, widths, sincos = self.band_cache.get(
            (wavelengths, fwhm), 'spectral', fixed
        )
        return self.spectral_embed.refine(sincos, centres, widths), centres

    def token_encoding(
        self, x: Tensor, wavelengths: Tensor, fwhm: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Spatial plus spectral encoding of every (group, patch) token of a cube.

        Args:
            x: Cube ``(B, C, H, W)`` (only its size and device are used).
            wavelengths: ``(B, C)`` band centres in nm.
            fwhm: ``(B, C)`` band widths in nm, or ``None``.

        Returns:
            ``(encoding, centres)``: ``(B, G, N, D)`` encodings and group centres
            ``(B, G)``.
        """
        p = self.patch_size
        spatial = cached_sincos_2d(
            x.shape[-2] // p, x.shape[-1] // p, self.embed_dim, device=x.device
        )
        spectral, centres = self.spectral_encoding(wavelengths, fwhm)
        return spectral[:, :, None] + spatial[None, None], centres

    def patch_values(self, x: Tensor) -> Tensor:
        """Cut a cube into per-token value vectors.

        Args:
            x: Cube ``(B, C, H, W)``.

        Returns:
            ``(B, G * N, k * p * p)``: values ordered ``(band, row, col)`` inside a
            token (the order of ``patch_embed.proj.weight``), tokens group-major; the
            last group padded (``group_padding``).
        """
        xg = self.group_bands(x)
        batch, _, height, width = xg.shape
        k, p = self.bands_per_token, self.patch_size
        groups, gh, gw = xg.shape[1] // k, height // p, width // p
        xg = xg.reshape(batch, groups, k, gh, p, gw, p).permute(0, 1, 3, 5, 2, 4, 6)
        return xg.reshape(batch, groups * gh * gw, k * p * p)

    def valid_slots(
        self, num_bands: int, device: torch.device | None = None
    ) -> Tensor | None:
        """Which of a token's ``k*p*p`` values hold real bands, per group.

        Args:
            num_bands: Band count ``C``.
            device: Device of the result.

        Returns:
            ``(G, k * p * p)`` bool (``False`` for padding slots of the last
            group), or ``None`` when ``C`` is a multiple of ``k`` (no padding).
        """
        k, p = self.bands_per_token, self.patch_size
        groups = self.num_groups(num_bands)
        if groups * k == num_bands:
            return None
        slots = torch.arange(groups * k, device=device) < num_bands
        return slots.reshape(groups, k, 1).expand(groups, k, p * p).reshape(groups, -1)

    def project(
        self,
        x: Tensor,
        wavelengths: Tensor,
        fwhm: Tensor | None = None,
        values: Tensor | None = None,
    ) -> Tensor:
        """Linear projection of every (group, patch), without encodings.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(B, C)`` band centres in nm.
            fwhm: ``(B, C)`` band widths in nm, or ``None``.
            values: :meth:`patch_values` of ``x`` when already computed.

        Returns:
            ``(B, G, N, D)`` tokens.
        """
        batch, bands, height, width = x.shape
        groups = self.num_groups(bands)
        grid = (height // self.patch_size) * (width // self.patch_size)
        if values is None:
            values = self.patch_values(x)
        if isinstance(self.patch_embed, WavelengthPatchEmbed):
            tokens: Tensor = self.patch_embed(
                values.reshape(batch, groups, grid, -1), wavelengths, fwhm
            )
            return tokens
        out = self.patch_embed.project_values(values)
        return out.reshape(batch, groups, grid, self.embed_dim)

    def embed(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        fwhm: WavelengthsLike | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Tokenize a cube and add the spatial and spectral encodings.

        Args:
            x: Cube ``(B, C, H, W)``; ``H`` and ``W`` divisible by ``p``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None``.
            fwhm: ``(C,)`` or ``(B, C)`` band widths in nm, or ``None``.

        Returns:
            ``(tokens, centres)``: encoded tokens of shape ``(B, G, N, D)`` (before
            any pooling and dropout) and group centre wavelengths ``(B, G)``.

        Raises:
            ValueError: For invalid inputs (see :func:`check_cube`).
        """
        check_cube(x, self.patch_size, check_finite=self.check_finite)
        wl = self.resolve_wavelengths(x, wavelengths)
        fw = self.resolve_fwhm(x, wavelengths, fwhm)
        tokens = self.project(x, wl, fw)
        encoding, centres = self.token_encoding(x, wl, fw)
        return tokens + encoding.to(tokens.dtype), centres

    def embed_visible(
        self,
        x: Tensor,
        index: Tensor,
        wavelengths: Tensor,
        fwhm: Tensor | None = None,
        values: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Encoded tokens at the given flat indices only (MAE's visible tokens).

        With the shared projection only the selected tokens are projected, so an
        MAE step pays the patch projection for visible tokens only.

        Args:
            x: Cube ``(B, C, H, W)`` (already checked).
            index: ``(B, T)`` flat token indices ``g * N + n``.
            wavelengths: ``(B, C)`` band centres in nm.
            fwhm: ``(B, C)`` band widths in nm, or ``None``.
            values: :meth:`patch_values` of ``x`` when already computed.

        Returns:
            ``(tokens, centres)``: ``(B, T, D)`` encoded tokens and group centres
            ``(B, G)``.
        """
        encoding, centres = self.token_encoding(x, wavelengths, fwhm)
        encoding = encoding.flatten(1, 2)
        index_d = index[..., None].expand(-1, -1, self.embed_dim)
        if values is None:
            values = self.patch_values(x)
        if isinstance(self.patch_embed, SpectralPatchEmbed):
            picked = values.gather(1, index[..., None].expand(-1, -1, values.shape[-1]))
            tokens = self.patch_embed.project_values(picked)
        else:
            tokens = self.project(x, wavelengths, fwhm, values).flatten(1, 2)
            tokens = tokens.gather(1, index_d)
        return tokens + encoding.gather(1, index_d).to(tokens.dtype), centres

    def pool_groups(self, tokens: Tensor) -> Tensor:
        """Merge the group axis: learned pooling (pooled mode) or flattening.

        Args:
            tokens: Tokens of shape ``(B, G, N, D)``.

        Returns:
            ``(B, N, D)`` in pooled mode, ``(B, G * N, D)`` in joint mode.
        """
        if self.spectral_pool is not None:
            pooled: Tensor = self.spectral_pool(tokens)
            return pooled
        return tokens.flatten(1, 2)

    def run_blocks(self, tokens: Tensor) -> Tensor:
        """Dropout, transformer blocks and final norm.

        Args:
            tokens: Sequence ``(B, T, D)``.

        Returns:
            Normalised sequence ``(B, T, D)``.
        """
        tokens = self.pos_drop(tokens)
        if self.grad_checkpointing and torch.is_grad_enabled():
            for block in self.blocks:
                tokens = torch.utils.checkpoint.checkpoint(
                    block, tokens, use_reentrant=False
                )
        else:
            tokens = self.blocks(tokens)
        out: Tensor = self.norm(tokens)
        return out

    # -------------------------------------------------------------- outputs

    def forward_tokens(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        fwhm: WavelengthsLike | None = None,
    ) -> Tensor:
        """Normalised token features.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None``.
            fwhm: ``(C,)`` or ``(B, C)`` band widths in nm, or ``None`` (the
                fixed ones when ``wavelengths`` is ``None`` too).

        Returns:
            ``(B, G * N, D)`` (group-major) in joint mode, ``(B, N, D)`` in pooled
            mode.
        """
        tokens, _ = self.embed(x, wavelengths, fwhm)
        return self.run_blocks(self.pool_groups(tokens))

    #: Unpooled features under timm's name: the same method as :meth:`forward_tokens`.
    forward_features = forward_tokens

    def tokens_to_feature_map(self, tokens: Tensor, grid_h: int, grid_w: int) -> Tensor:
        """Average token features over spectral groups into a spatial map.

        Args:
            tokens: ``(B, G * N, D)`` or ``(B, N, D)`` token features.
            grid_h: Patch rows ``H / p``.
            grid_w: Patch columns ``W / p``.

        Returns:
            Feature map ``(B, D, grid_h, grid_w)``.
        """
        batch, count, dim = tokens.shape
        n = grid_h * grid_w
        fmap = tokens.reshape(batch, count // n, n, dim).mean(dim=1)
        return fmap.transpose(1, 2).reshape(batch, dim, grid_h, grid_w)

    def forward_feature_map(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        fwhm: WavelengthsLike | None = None,
    ) -> Tensor:
        """Spatial feature map pooled over spectral groups: the one dense route.

        Every dense consumer (:class:`SpectralFeaturePyramid`, the dense heads,
        inference) builds on this map. With ``patch_size=1`` it keeps the full
        resolution (one feature per pixel, for any ``H`` and ``W``, odd windows
        included), so a labelled pixel is classified from its own token.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None``.
            fwhm: ``(C,)`` or ``(B, C)`` band widths in nm, or ``None``.

        Returns:
            Feature map ``(B, D, H / p, W / p)``.
        """
        tokens = self.forward_tokens(x, wavelengths, fwhm)
        p = self.patch_size
        return self.tokens_to_feature_map(tokens, x.shape[-2] // p, x.shape[-1] // p)

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Mean-pool token features and apply the head (timm convention).

        Args:
            x: Token features ``(B, T, D)``.
            pre_logits: Return the pooled embedding ``(B, D)`` instead of logits.

        Returns:
            Logits ``(B, num_classes)`` or the embedding ``(B, D)``.
        """
        pooled: Tensor = self.head_drop(x.mean(dim=1))
        if pre_logits:
            return pooled
        logits: Tensor = self.head(pooled)
        return logits

    def forward(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        fwhm: WavelengthsLike | None = None,
    ) -> Tensor:
        """Classify a cube (or embed it when ``num_classes == 0``).

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None`` for
                the wavelengths fixed at construction.
            fwhm: ``(C,)`` or ``(B, C)`` band widths in nm, or ``None``.

        Returns:
            Logits ``(B, num_classes)``, or the pooled embedding ``(B, D)`` when the
            model has no head.
        """
        return self.forward_head(self.forward_features(x, wavelengths, fwhm))

    def config(self) -> dict[str, Any]:
        """Architecture settings, as stored with exported weights.

        Returns:
            A JSON-friendly dict of the settings that shape the weights.
        """
        return {
            'architecture': 'SpectralViT',
            'embed_dim': self.embed_dim,
            'depth': self.depth,
            'num_heads': self.num_heads,
            'mlp_ratio': self.mlp_ratio,
            'patch_size': self.patch_size,
            'bands_per_token': self.bands_per_token,
            'token_mode': self.token_mode,
            'spectral_mlp': self.spectral_mlp,
            'group_padding': self.group_padding,
            'projection': self.projection,
        }
