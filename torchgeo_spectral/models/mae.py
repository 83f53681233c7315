"""SpectralMAE: masked-autoencoder pretraining of a :class:`SpectralViT`."""

from dataclasses import dataclass

import torch
from timm.models.vision_transformer import Block
from torch import Tensor, nn

from .encoding import sincos_1d, sincos_2d
from .masking import SpectralMaskMode, two_stage_mask
from .spectral_vit import LayerNorm, SpectralViT
from .validation import WavelengthsLike, check_ratio

__all__ = ['MAEOutput', 'SpectralMAE']

_EPS = 1e-6


@dataclass(frozen=True)
class MAEOutput:
    """Output of :meth:`SpectralMAE.forward`.

    Attributes:
        loss: Scalar MSE over masked tokens (0 when nothing is masked).
        pred: ``(B, G * N, k * p * p)`` predicted values of every token (in the
            normalised space when ``norm_pix_loss``).
        target: ``(B, G * N, k * p * p)`` targets (normalised likewise).
        mask: ``(B, G * N)`` bool, ``True`` for masked tokens.
        num_groups: ``G``.
        grid_size: ``(H / p, W / p)``.
    """

    loss: Tensor
    pred: Tensor
    target: Tensor
    mask: Tensor
    num_groups: int
    grid_size: tuple[int, int]


class SpectralMAE(nn.Module):
    """Masked autoencoder with two-stage spatial-spectral masking.

    The encoder (a :class:`SpectralViT`) sees only the visible tokens (gathered
    after the spatial and spectral encodings are added). A light decoder of timm
    :class:`~timm.models.vision_transformer.Block` s receives the visible latents
    and a shared learned mask token at every masked (group, patch), each with fixed
    sin-cos spatial and spectral (group centre, nm) encodings of the decoder width,
    and predicts the ``k*p*p`` values of every token. The loss is the MSE over
    masked tokens, on targets normalised per token (mean 0, variance 1 over its
    ``k*p*p`` values) when ``norm_pix_loss`` is true.

    Masking (see :func:`~torchgeo_spectral.models.masking.two_stage_mask`): first
    ``round(spatial_mask_ratio * N)`` positions with all their groups, then
    ``round(spectral_mask_ratio * G)`` groups at each remaining position, the same
    groups at every position of a sample (``'shared'``) or drawn independently per
    position (``'per_position'``).

    With a ``token_mode='pooled'`` encoder the visible groups of each visible
    position are pooled into one encoder token; the decoder then gives that latent
    to each visible (group, patch) of the position.
    """

    def __init__(
        self,
        encoder: SpectralViT,
        *,
        decoder_embed_dim: int = 256,
        decoder_depth: int = 4,
        decoder_num_heads: int = 8,
        decoder_mlp_ratio: float = 4.0,
        spatial_mask_ratio: float = 0.6,
        spectral_mask_ratio: float = 0.4,
        spectral_mask_mode: SpectralMaskMode = 'shared',
        norm_pix_loss: bool = True,
    ) -> None:
        """Initialise the MAE.

        Args:
            encoder: The encoder to pretrain (its head is not used).
            decoder_embed_dim: Decoder width (a multiple of 4).
            decoder_depth: Number of decoder blocks.
            decoder_num_heads: Attention heads per decoder block.
            decoder_mlp_ratio: Hidden width of the decoder MLPs.
            spatial_mask_ratio: Fraction of positions masked, in ``[0, 1)``.
            spectral_mask_ratio: Fraction of groups masked at the remaining
                positions, in ``[0, 1)``.
            spectral_mask_mode: ``'shared'`` or ``'per_position'``.
            norm_pix_loss: Normalise the targets per token.

        Raises:
            ValueError: For invalid ratios, mode or decoder width.
        """
        super().__init__()
        check_ratio('spatial_mask_ratio', spatial_mask_ratio)
        check_ratio('spectral_mask_ratio', spectral_mask_ratio)
        if spectral_mask_mode not in ('shared', 'per_position'):
            msg = (
                "spectral_mask_mode must be 'shared' or 'per_position', got "
                f'{spectral_mask_mode!r}'
            )
            raise ValueError(msg)
        if decoder_embed_dim % 4 or decoder_embed_dim % decoder_num_heads:
            msg = (
                'decoder_embed_dim must be divisible by 4 and by decoder_num_heads, got '
                f'{decoder_embed_dim} and {decoder_num_heads}'
            )
            raise ValueError(msg)
        self.encoder = encoder
        self.spatial_mask_ratio = spatial_mask_ratio
        self.spectral_mask_ratio = spectral_mask_ratio
        self.spectral_mask_mode: SpectralMaskMode = spectral_mask_mode
        self.norm_pix_loss = norm_pix_loss
        self.decoder_embed_dim = decoder_embed_dim
        k, p = encoder.bands_per_token, encoder.patch_size
        self.token_values = k * p * p

        norm_layer = LayerNorm
        self.decoder_embed = nn.Linear(encoder.embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_blocks = nn.Sequential(
            *[
                Block(
                    dim=decoder_embed_dim,
                    num_heads=decoder_num_heads,
                    mlp_ratio=decoder_mlp_ratio,
                    qkv_bias=True,
                    norm_layer=norm_layer,
                )
                for _ in range(decoder_depth)
            ]
        )
        self.decoder_norm = norm_layer(decoder_embed_dim)
        self.decoder_pred = nn.Linear(decoder_embed_dim, self.token_values)
        nn.init.normal_(self.mask_token, std=0.02)
        for module in [
            self.decoder_embed,
            *self.decoder_blocks.modules(),
            self.decoder_pred,
        ]:
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def no_weight_decay(self) -> set[str]:
        """Parameter names to exclude from weight decay.

        Returns:
            ``{'mask_token'}``.
        """
        return {'mask_token'}

    def patchify(self, x: Tensor) -> Tensor:
        """Cut a cube into per-token value vectors (the reconstruction targets).

        Args:
            x: Cube ``(B, C, H, W)``.

        Returns:
            ``(B, G * N, k * p * p)``, values ordered ``(band, row, col)`` inside a
            token, tokens group-major; the last group is padded as the encoder pads.
        """
        enc = self.encoder
        xg = enc.group_bands(x)
        batch, _, height, width = xg.shape
        k, p = enc.bands_per_token, enc.patch_size
        groups, gh, gw = xg.shape[1] // k, height // p, width // p
        xg = xg.reshape(batch, groups, k, gh, p, gw, p).permute(0, 1, 3, 5, 2, 4, 6)
        return xg.reshape(batch, groups * gh * gw, k * p * p)

    def unpatchify(
        self, tokens: Tensor, num_bands: int, grid_size: tuple[int, int]
    ) -> Tensor:
        """Inverse of :meth:`patchify` (padding slots dropped).

        Args:
            tokens: ``(B, G * N, k * p * p)`` token values.
            num_bands: Band count ``C`` of the cube.
            grid_size: ``(H / p, W / p)``.

        Returns:
            Cube ``(B, C, H, W)``.
        """
        enc = self.encoder
        k, p = enc.bands_per_token, enc.patch_size
        gh, gw = grid_size
        batch = tokens.shape[0]
        groups = tokens.shape[1] // (gh * gw)
        cube = tokens.reshape(batch, groups, gh, gw, k, p, p).permute(
            0, 1, 4, 2, 5, 3, 6
        )
        return cube.reshape(batch, groups * k, gh * p, gw * p)[:, :num_bands]

    def normalise_targets(self, target: Tensor) -> Tensor:
        """Per-token normalisation (when ``norm_pix_loss``).

        Args:
            target: ``(B, T, V)`` token values.

        Returns:
            ``(target - mean) / sqrt(var + 1e-6)`` per token, or ``target``.
        """
        if not self.norm_pix_loss:
            return target
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True, unbiased=False)
        return (target - mean) / (var + _EPS).sqrt()

    def _decoder_encoding(self, centres: Tensor, grid: tuple[int, int]) -> Tensor:
        """Fixed spatial + spectral encodings of all tokens at decoder width.

        Args:
            centres: Group centre wavelengths ``(B, G)`` in nm.
            grid: ``(H / p, W / p)``.

        Returns:
            ``(B, G * N, decoder_embed_dim)``.
        """
        dim = self.decoder_embed_dim
        spatial = sincos_2d(*grid, dim, device=centres.device)
        spectral = sincos_1d(centres.float(), dim)
        return (spectral[:, :, None] + spatial[None, None]).flatten(1, 2)

    def forward(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        generator: torch.Generator | None = None,
    ) -> MAEOutput:
        """Mask, encode the visible tokens, decode all tokens, score the masked.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres (nm), or ``None`` for
                the encoder's fixed wavelengths.
            generator: Random generator for a reproducible mask.

        Returns:
            Loss, predictions, targets and mask (see :class:`MAEOutput`).

        Raises:
            ValueError: For invalid inputs or a mask that leaves no visible token.
        """
        enc = self.encoder
        tokens, centres = enc.embed(x, wavelengths)  # (B, G, N, D)
        batch, groups, positions, dim = tokens.shape
        p = enc.patch_size
        grid = (x.shape[-2] // p, x.shape[-1] // p)
        masking = two_stage_mask(
            batch,
            groups,
            positions,
            self.spatial_mask_ratio,
            self.spectral_mask_ratio,
            self.spectral_mask_mode,
            generator=generator,
            device=x.device,
        )
        visible = masking.visible  # (B, Nv, Gv)
        _, n_vis, g_vis = visible.shape
        flat_idx = visible.flatten(1)
        seq = tokens.flatten(1, 2).gather(1, flat_idx[..., None].expand(-1, -1, dim))
        if enc.spectral_pool is not None:
            seq = enc.spectral_pool(
                seq.reshape(batch, n_vis, g_vis, dim).transpose(1, 2)
            )
        latent = self.decoder_embed(enc.run_blocks(seq))
        if enc.spectral_pool is not None:
            latent = latent[:, :, None].expand(-1, -1, g_vis, -1).flatten(1, 2)

        dd = self.decoder_embed_dim
        full = self.mask_token.to(latent.dtype).expand(batch, groups * positions, dd)
        full = full.scatter(1, flat_idx[..., None].expand(-1, -1, dd), latent)
        full = full + self._decoder_encoding(centres, grid).to(full.dtype)
        pred = self.decoder_pred(self.decoder_norm(self.decoder_blocks(full)))

        target = self.normalise_targets(self.patchify(x))
        mask = masking.mask
        per_token = (pred - target).pow(2).mean(dim=-1)
        weights = mask.to(per_token.dtype)
        loss = (per_token * weights).sum() / weights.sum().clamp(min=1.0)
        return MAEOutput(
            loss=loss,
            pred=pred,
            target=target,
            mask=mask,
            num_groups=groups,
            grid_size=grid,
        )

    @torch.no_grad()
    def reconstruct(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Reconstruction and mask cubes for plots.

        With ``norm_pix_loss`` the predictions live in per-token normalised space;
        they are mapped back with the mean and standard deviation of the true
        token values (the target statistics), so the cube shows the predicted
        structure at the true local level. Every token is reconstructed, visible
        ones included; ``torch.where(mask, recon, x)`` pastes the visible input
        back, as MAE figures do.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres (nm), or ``None``.
            generator: Random generator for a reproducible mask.

        Returns:
            ``(reconstruction, mask)``, both ``(B, C, H, W)``; ``mask`` is bool,
            ``True`` where the band and pixel belong to a masked token.
        """
        out = self.forward(x, wavelengths, generator)
        pred = out.pred
        if self.norm_pix_loss:
            raw = self.patchify(x)
            mean = raw.mean(dim=-1, keepdim=True)
            std = (raw.var(dim=-1, keepdim=True, unbiased=False) + _EPS).sqrt()
            pred = pred * std + mean
        num_bands = x.shape[1]
        recon = self.unpatchify(pred, num_bands, out.grid_size)
        mask_tokens = (
            out.mask[..., None].expand(-1, -1, self.token_values).to(pred.dtype)
        )
        mask = self.unpatchify(mask_tokens, num_bands, out.grid_size) > 0.5
        return recon, mask
