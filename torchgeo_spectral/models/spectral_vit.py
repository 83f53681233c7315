"""SpectralViT: a Vision Transformer over (spectral group x spatial patch) tokens."""

import math
from typing import Any, Literal

import numpy as np
import torch
from timm.models.vision_transformer import Block
from torch import Tensor, nn

from ..wavelengths import check_wavelengths, to_nanometers
from .encoding import SpectralEncoding, group_wavelengths, sincos_2d
from .validation import WavelengthsLike, check_cube, prepare_wavelengths

__all__ = ['SpectralPatchEmbed', 'SpectralPooling', 'SpectralViT', 'TokenMode']

#: How tokens enter the transformer blocks (see :class:`SpectralViT`).
TokenMode = Literal['joint', 'pooled']

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
            wavelengths: Default band centres (nm) used when ``forward`` gets none.
            fwhm: Band widths (nm) that go with ``wavelengths`` (kept as metadata).
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
        self.sensor = sensor
        self.check_finite = check_finite
        self.grad_checkpointing = False

        self._init_wavelengths(wavelengths, fwhm, in_chans)

        self.patch_embed = SpectralPatchEmbed(bands_per_token, patch_size, embed_dim)
        self.spectral_embed = SpectralEncoding(embed_dim, learned=spectral_mlp)
        self.spectral_pool = (
            SpectralPooling(embed_dim) if token_mode == 'pooled' else None
        )
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = [float(v) for v in torch.linspace(0, drop_path_rate, depth)]
        norm_layer = LayerNorm
        self.blocks = nn.Sequential(
            *[
                Block(
                    dim=embed_dim,
                    num_heads=num_heads,
                    mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias,
                    proj_drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    drop_path=dpr[i],
                    norm_layer=norm_layer,
                )
                for i in range(depth)
            ]
        )
        self.norm = norm_layer(embed_dim)
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
        proj = self.patch_embed.proj
        nn.init.xavier_uniform_(proj.weight.view(proj.weight.shape[0], -1))
        if proj.bias is not None:
            nn.init.zeros_(proj.bias)
        for module in [*self.blocks.modules(), self.head]:
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

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

    def embed(
        self, x: Tensor, wavelengths: WavelengthsLike | None = None
    ) -> tuple[Tensor, Tensor]:
        """Tokenise a cube and add the spatial and spectral encodings.

        Args:
            x: Cube ``(B, C, H, W)``; ``H`` and ``W`` divisible by ``p``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None``.

        Returns:
            ``(tokens, centres)``: encoded tokens of shape ``(B, G, N, D)`` (before
            any pooling and dropout) and group centre wavelengths ``(B, G)``.

        Raises:
            ValueError: For invalid inputs (see :func:`check_cube`).
        """
        check_cube(x, self.patch_size, check_finite=self.check_finite)
        wl = self.resolve_wavelengths(x, wavelengths)
        batch, bands, height, width = x.shape
        groups = self.num_groups(bands)
        k, p = self.bands_per_token, self.patch_size
        xg = self.group_bands(x).reshape(batch * groups, k, height, width)
        tokens = self.patch_embed(xg)  # (B*G, D, h, w)
        grid_h, grid_w = height // p, width // p
        tokens = tokens.flatten(2).transpose(1, 2)
        tokens = tokens.reshape(batch, groups, grid_h * grid_w, self.embed_dim)
        centres, widths = group_wavelengths(wl, k)
        spatial = sincos_2d(
            grid_h, grid_w, self.embed_dim, device=x.device, dtype=tokens.dtype
        )
        spectral = self.spectral_embed(centres, widths).to(tokens.dtype)
        tokens = tokens + spatial[None, None] + spectral[:, :, None]
        return tokens, centres

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
        self, x: Tensor, wavelengths: WavelengthsLike | None = None
    ) -> Tensor:
        """Normalised token features.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None``.

        Returns:
            ``(B, G * N, D)`` (group-major) in joint mode, ``(B, N, D)`` in pooled
            mode.
        """
        tokens, _ = self.embed(x, wavelengths)
        return self.run_blocks(self.pool_groups(tokens))

    def forward_features(
        self, x: Tensor, wavelengths: WavelengthsLike | None = None
    ) -> Tensor:
        """Unpooled features (timm convention); same as :meth:`forward_tokens`.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None``.

        Returns:
            Token features ``(B, T, D)``.
        """
        return self.forward_tokens(x, wavelengths)

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
        self, x: Tensor, wavelengths: WavelengthsLike | None = None
    ) -> Tensor:
        """Spatial feature map pooled over spectral groups.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None``.

        Returns:
            Feature map ``(B, D, H / p, W / p)``.
        """
        tokens = self.forward_tokens(x, wavelengths)
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

    def forward(self, x: Tensor, wavelengths: WavelengthsLike | None = None) -> Tensor:
        """Classify a cube (or embed it when ``num_classes == 0``).

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres in nm, or ``None`` for
                the wavelengths fixed at construction.

        Returns:
            Logits ``(B, num_classes)``, or the pooled embedding ``(B, D)`` when the
            model has no head.
        """
        return self.forward_head(self.forward_features(x, wavelengths))

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
        }
