"""SpectralMAE: masked-autoencoder pretraining of a :class:`SpectralViT`."""

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from .encoding import BandSetCache, cached_sincos_2d, spectral_sincos
from .masking import SpectralMask, SpectralMaskMode, two_stage_mask
from .spectral_vit import LayerNorm, SpectralViT, init_linear_weights, vit_blocks
from .validation import WavelengthsLike, check_cube, check_ratio

__all__ = ['MAEOutput', 'MAETarget', 'SpectralMAE']

_EPS = 1e-6

#: What the decoder reconstructs (see :class:`SpectralMAE`).
MAETarget = Literal['pixels', 'normalized', 'normalized+stats']

_TARGETS = ('pixels', 'normalized', 'normalized+stats')


@dataclass(frozen=True)
class MAEOutput:
    """Output of :meth:`SpectralMAE.forward`.

    Attributes:
        loss: Scalar MSE over masked tokens (plus the weighted visible ones) and
            real band slots (0 when nothing is masked).
        pred: ``(B, G * N, k * p * p)`` predicted values of every token (in the
            per-token normalized space for the ``'normalized'`` targets).
        target: ``(B, G * N, k * p * p)`` targets (normalized likewise; padding
            slots of the last group hold the padded input and never count).
        mask: ``(B, G * N)`` bool, ``True`` for masked tokens.
        num_groups: ``G``.
        grid_size: ``(H / p, W / p)``.
        pred_stats: ``(B, G * N, 2)`` predicted per-token mean and standard
            deviation (``target='normalized+stats'`` only).
        target_stats: ``(B, G * N, 2)`` true per-token mean and standard deviation
            (``target='normalized+stats'`` only).
    """

    loss: Tensor
    pred: Tensor
    target: Tensor
    mask: Tensor
    num_groups: int
    grid_size: tuple[int, int]
    pred_stats: Tensor | None = None
    target_stats: Tensor | None = None


class SpectralMAE(nn.Module):
    """Masked autoencoder with two-stage spatial-spectral masking.

    The encoder (a :class:`SpectralViT`) sees only the visible tokens (gathered
    after the spatial and spectral encodings are added). A light decoder of timm
    :class:`~timm.models.vision_transformer.Block` s receives the visible latents
    and a shared learned mask token at every masked (group, patch), each with fixed
    sin-cos spatial and spectral (group centre, nm) encodings of the decoder width,
    and predicts the ``k*p*p`` values of every token. The loss is the MSE over
    masked tokens (plus ``visible_loss_weight`` times that over the visible
    ones) and over the real band slots only: the padding slots of the last
    spectral group (``C`` not a multiple of ``k``) never count.

    ``target`` chooses what is reconstructed:

    * ``'pixels'`` (default): the token values themselves, so the brightness
      level that separates, say, dark water from bright roofs is learned.
    * ``'normalized'``: values normalized per token (mean 0, variance 1 over its
      real values), the MAE reference's ``norm_pix_loss``: spectral and spatial
      shape only, brightness erased.
    * ``'normalized+stats'``: the normalized shape plus the token's mean and
      standard deviation as two extra outputs (their MSE is added to the loss), so
      shape and level are both learned, each on its own scale.

    The steps follow the MAE reference: :meth:`forward_encoder` (mask, embed the
    visible tokens, encode), :meth:`forward_decoder` (mask tokens, decode),
    :meth:`forward_loss`; :meth:`forward` composes them.

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
        target: MAETarget = 'pixels',
        norm_pix_loss: bool | None = None,
        visible_loss_weight: float = 0.0,
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
            target: ``'pixels'``, ``'normalized'`` or ``'normalized+stats'`` (see
                the class docstring).
            norm_pix_loss: Deprecated switch kept for existing configs: ``True``
                means ``target='normalized'``, ``False`` means ``target='pixels'``;
                ``None`` (default) leaves ``target`` as given.
            visible_loss_weight: Weight of the reconstruction error of the
                visible tokens, added to that of the masked ones (0: scored on
                masked tokens only, as in MAE). With it the encoder must keep
                each visible token's own band values, including detail inside a
                spectral group that does not predict other groups.

        Raises:
            ValueError: For invalid ratios, mode, target or decoder width.
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
        if norm_pix_loss is not None:
            target = 'normalized' if norm_pix_loss else 'pixels'
        if target not in _TARGETS:
            msg = f'target must be one of {_TARGETS}, got {target!r}'
            raise ValueError(msg)
        self.encoder = encoder
        if visible_loss_weight < 0:
            msg = f'visible_loss_weight must be >= 0, got {visible_loss_weight}'
            raise ValueError(msg)
        self.target: MAETarget = target
        self.visible_loss_weight = visible_loss_weight
        self.spatial_mask_ratio = spatial_mask_ratio
        self.spectral_mask_ratio = spectral_mask_ratio
        self.spectral_mask_mode: SpectralMaskMode = spectral_mask_mode
        self.decoder_embed_dim = decoder_embed_dim
        #: Decoder encodings of the last band set seen (see :class:`BandSetCache`).
        self.band_cache = BandSetCache()
        k, p = encoder.bands_per_token, encoder.patch_size
        self.token_values = k * p * p

        self.decoder_embed = nn.Linear(encoder.embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_blocks = vit_blocks(
            decoder_embed_dim, decoder_depth, decoder_num_heads, decoder_mlp_ratio
        )
        self.decoder_norm = LayerNorm(decoder_embed_dim)
        extra = 2 if target == 'normalized+stats' else 0
        self.decoder_pred = nn.Linear(decoder_embed_dim, self.token_values + extra)
        nn.init.normal_(self.mask_token, std=0.02)
        init_linear_weights(
            [self.decoder_embed, *self.decoder_blocks.modules(), self.decoder_pred]
        )

    def no_weight_decay(self) -> set[str]:
        """Parameter names to exclude from weight decay.

        Returns:
            ``{'mask_token'}``.
        """
        return {'mask_token'}

    @property
    def norm_pix_loss(self) -> bool:
        """Whether the targets are normalized per token (MAE reference name)."""
        return self.target != 'pixels'

    def patchify(self, x: Tensor) -> Tensor:
        """Cut a cube into per-token value vectors (the reconstruction targets).

        Args:
            x: Cube ``(B, C, H, W)``.

        Returns:
            ``(B, G * N, k * p * p)``, values ordered ``(band, row, col)`` inside a
            token, tokens group-major; the last group is padded as the encoder pads.
        """
        return self.encoder.patch_values(x)

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

    def token_weights(
        self, num_bands: int, num_positions: int, device: torch.device | None = None
    ) -> Tensor | None:
        """Weights of the ``k*p*p`` values of each token: 1 real, 0 padding.

        Args:
            num_bands: Band count ``C``.
            num_positions: Patch positions ``N``.
            device: Device of the result.

        Returns:
            ``(G * N, k * p * p)`` float weights, or ``None`` without padding.
        """
        slots = self.encoder.valid_slots(num_bands, device)
        if slots is None:
            return None
        groups = slots.shape[0]
        return (
            slots[:, None]
            .expand(groups, num_positions, -1)
            .reshape(groups * num_positions, -1)
            .float()
        )

    def token_stats(
        self, values: Tensor, weights: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """Per-token mean and standard deviation over the real values.

        Args:
            values: ``(B, T, V)`` token values.
            weights: ``(T, V)`` real-slot weights or ``None`` (all real).

        Returns:
            ``(mean, std)``, both ``(B, T, 1)``; ``std = sqrt(var + 1e-6)``.
        """
        if weights is None:
            mean = values.mean(dim=-1, keepdim=True)
            var = values.var(dim=-1, keepdim=True, unbiased=False)
        else:
            count = weights.sum(-1, keepdim=True)
            mean = (values * weights).sum(-1, keepdim=True) / count
            var = ((values - mean) ** 2 * weights).sum(-1, keepdim=True) / count
        return mean, (var + _EPS).sqrt()

    def normalize_targets(
        self, values: Tensor, weights: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Targets of the chosen kind, and the token statistics when predicted.

        Args:
            values: ``(B, T, V)`` token values (see :meth:`patchify`).
            weights: ``(T, V)`` real-slot weights or ``None`` (all real).

        Returns:
            ``(target, stats)``: ``target`` is ``values`` for ``'pixels'`` and the
            per-token normalized values otherwise; ``stats`` is the ``(B, T, 2)``
            mean and standard deviation for ``'normalized+stats'``, else ``None``.
        """
        if self.target == 'pixels':
            return values, None
        mean, std = self.token_stats(values, weights)
        target = (values - mean) / std
        stats = (
            torch.cat([mean, std], -1) if self.target == 'normalized+stats' else None
        )
        return target, stats

    def draw_mask(
        self,
        batch: int,
        num_groups: int,
        num_positions: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | None = None,
    ) -> SpectralMask:
        """Draw the two-stage mask with this MAE's ratios and mode.

        Args:
            batch: Batch size.
            num_groups: Spectral groups ``G``.
            num_positions: Patch positions ``N``.
            generator: Random generator for a reproducible mask.
            device: Device of the mask.

        Returns:
            The mask.
        """
        return two_stage_mask(
            batch,
            num_groups,
            num_positions,
            self.spatial_mask_ratio,
            self.spectral_mask_ratio,
            self.spectral_mask_mode,
            generator=generator,
            device=device,
        )

    def _encode(
        self,
        x: Tensor,
        values: Tensor,
        wavelengths: WavelengthsLike | None,
        mask: SpectralMask | None,
        generator: torch.Generator | None,
        fwhm: WavelengthsLike | None,
    ) -> tuple[Tensor, SpectralMask, Tensor]:
        """Body of :meth:`forward_encoder` given the token values of ``x``.

        Args:
            x: Cube ``(B, C, H, W)``.
            values: ``patchify(x)``.
            wavelengths: Band centres or ``None``.
            mask: A mask to use, or ``None`` to draw one.
            generator: Random generator for the mask.
            fwhm: Band widths or ``None``.

        Returns:
            See :meth:`forward_encoder`.
        """
        enc = self.encoder
        wl = enc.resolve_wavelengths(x, wavelengths)
        fw = enc.resolve_fwhm(x, wavelengths, fwhm)
        batch, bands, height, width = x.shape
        p = enc.patch_size
        groups, positions = enc.num_groups(bands), (height // p) * (width // p)
        if mask is None:
            mask = self.draw_mask(
                batch, groups, positions, generator=generator, device=x.device
            )
        _, n_vis, g_vis = mask.visible.shape
        seq, centres = enc.embed_visible(x, mask.visible.flatten(1), wl, fw, values)
        if enc.spectral_pool is not None:
            seq = enc.spectral_pool(
                seq.reshape(batch, n_vis, g_vis, enc.embed_dim).transpose(1, 2)
            )
        return enc.run_blocks(seq), mask, centres

    def forward_encoder(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        mask: SpectralMask | None = None,
        *,
        generator: torch.Generator | None = None,
        fwhm: WavelengthsLike | None = None,
    ) -> tuple[Tensor, SpectralMask, Tensor]:
        """Mask the tokens and encode the visible ones.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres (nm), or ``None`` for
                the encoder's fixed wavelengths.
            mask: A :class:`SpectralMask` to apply, or ``None`` to draw one
                (:meth:`draw_mask`).
            generator: Random generator for a reproducible mask.
            fwhm: ``(C,)`` or ``(B, C)`` band widths (nm), or ``None``.

        Returns:
            ``(latent, mask, centres)``: encoder output ``(B, Nv * Gv, D)``
            (``(B, Nv, D)`` with a pooled encoder), the mask, and the group centre
            wavelengths ``(B, G)``.

        Raises:
            ValueError: For invalid inputs or a mask that leaves no visible token.
        """
        check_cube(x, self.encoder.patch_size, check_finite=self.encoder.check_finite)
        return self._encode(x, self.patchify(x), wavelengths, mask, generator, fwhm)

    def _decoder_encoding(self, centres: Tensor, grid: tuple[int, int]) -> Tensor:
        """Fixed spatial + spectral encodings of all tokens at decoder width.

        Args:
            centres: Group centre wavelengths ``(B, G)`` in nm.
            grid: ``(H / p, W / p)``.

        Returns:
            ``(B, G * N, decoder_embed_dim)``.
        """
        dim = self.decoder_embed_dim

        def build() -> Tensor:
            spatial = cached_sincos_2d(*grid, dim, device=centres.device)
            spectral = spectral_sincos(centres, dim)
            return (spectral[:, :, None] + spatial[None, None]).flatten(1, 2)

        encoding: Tensor = self.band_cache.get((centres,), ('decoder', grid), build)
        return encoding

    def forward_decoder(
        self,
        latent: Tensor,
        mask: SpectralMask,
        centres: Tensor,
        grid_size: tuple[int, int],
    ) -> Tensor:
        """Decode every token from the visible latents and mask tokens.

        Args:
            latent: Encoder output of :meth:`forward_encoder`.
            mask: The mask it was computed under.
            centres: Group centre wavelengths ``(B, G)`` in nm.
            grid_size: ``(H / p, W / p)``.

        Returns:
            ``(B, G * N, k * p * p)`` predictions (``k * p * p + 2`` with the mean
            and standard deviation last for ``target='normalized+stats'``).
        """
        batch, _, g_vis = mask.visible.shape
        total = mask.mask.shape[1]
        latent = self.decoder_embed(latent)
        if self.encoder.spectral_pool is not None:  # one latent per position
            latent = latent[:, :, None].expand(-1, -1, g_vis, -1).flatten(1, 2)
        dd = self.decoder_embed_dim
        index = mask.visible.flatten(1)[..., None].expand(-1, -1, dd)
        full = self.mask_token.to(latent.dtype).expand(batch, total, dd)
        full = full.scatter(1, index, latent)
        full = full + self._decoder_encoding(centres, grid_size).to(full.dtype)
        pred: Tensor = self.decoder_pred(self.decoder_norm(self.decoder_blocks(full)))
        return pred

    def _loss(
        self, values: Tensor, pred: Tensor, mask: Tensor, num_bands: int
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None, Tensor | None]:
        """Loss, value predictions, targets and statistics (see :meth:`forward_loss`).

        Args:
            values: ``(B, T, V)`` token values.
            pred: Decoder output.
            mask: ``(B, T)`` bool, ``True`` for masked tokens.
            num_bands: Band count ``C``.

        Returns:
            ``(loss, pred, target, pred_stats, target_stats)``.
        """
        positions = values.shape[1] // self.encoder.num_groups(num_bands)
        weights = self.token_weights(num_bands, positions, values.device)
        target, target_stats = self.normalize_targets(values, weights)
        pred_stats = None
        if target_stats is not None:
            pred, pred_stats = (
                pred[..., : self.token_values],
                pred[..., self.token_values :],
            )
        sq = (pred - target).pow(2)
        if weights is None:
            per_token = sq.mean(dim=-1)
        else:
            per_token = (sq * weights).sum(-1) / weights.sum(-1)
        if pred_stats is not None and target_stats is not None:
            per_token = per_token + (pred_stats - target_stats).pow(2).mean(dim=-1)
        token_mask = mask.to(per_token.dtype)
        loss = (per_token * token_mask).sum() / token_mask.sum().clamp(min=1.0)
        if self.visible_loss_weight:
            shown = 1.0 - token_mask
            visible = (per_token * shown).sum() / shown.sum().clamp(min=1.0)
            loss = loss + self.visible_loss_weight * visible
        return loss, pred, target, pred_stats, target_stats

    def forward_loss(self, x: Tensor, pred: Tensor, mask: Tensor) -> Tensor:
        """MSE over masked (and weighted visible) tokens and real band slots.

        Args:
            x: Cube ``(B, C, H, W)`` (the targets are taken from it).
            pred: Decoder output of :meth:`forward_decoder`.
            mask: ``(B, G * N)`` bool, ``True`` for masked tokens.

        Returns:
            The scalar loss (0 when nothing is masked).
        """
        return self._loss(self.patchify(x), pred, mask, x.shape[1])[0]

    def forward(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        generator: torch.Generator | None = None,
        *,
        mask: SpectralMask | None = None,
        fwhm: WavelengthsLike | None = None,
    ) -> MAEOutput:
        """Mask, encode the visible tokens, decode all tokens, score the masked.

        Args:
            x: Cube ``(B, C, H, W)``.
            wavelengths: ``(C,)`` or ``(B, C)`` band centres (nm), or ``None`` for
                the encoder's fixed wavelengths.
            generator: Random generator for a reproducible mask.
            mask: A :class:`SpectralMask` to apply instead of drawing one.
            fwhm: ``(C,)`` or ``(B, C)`` band widths (nm), or ``None``.

        Returns:
            Loss, predictions, targets and mask (see :class:`MAEOutput`).

        Raises:
            ValueError: For invalid inputs or a mask that leaves no visible token.
        """
        enc = self.encoder
        check_cube(x, enc.patch_size, check_finite=enc.check_finite)
        values = self.patchify(x)
        latent, masking, centres = self._encode(
            x, values, wavelengths, mask, generator, fwhm
        )
        p = enc.patch_size
        grid = (x.shape[-2] // p, x.shape[-1] // p)
        pred = self.forward_decoder(latent, masking, centres, grid)
        loss, pred, target, pred_stats, target_stats = self._loss(
            values, pred, masking.mask, x.shape[1]
        )
        return MAEOutput(
            loss=loss,
            pred=pred,
            target=target,
            mask=masking.mask,
            num_groups=enc.num_groups(x.shape[1]),
            grid_size=grid,
            pred_stats=pred_stats,
            target_stats=target_stats,
        )

    @torch.no_grad()
    def reconstruct(
        self,
        x: Tensor,
        wavelengths: WavelengthsLike | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Reconstruction and mask cubes for plots.

        With ``target='normalized'`` the predictions live in per-token normalized
        space; they are mapped back with the mean and standard deviation of the
        true token values, so the cube shows the predicted structure at the true
        local level. With ``'normalized+stats'`` the predicted mean and standard
        deviation are used. Every token is reconstructed, visible ones included;
        ``torch.where(mask, recon, x)`` pastes the visible input back, as MAE
        figures do.

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
        if out.pred_stats is not None:
            pred = pred * out.pred_stats[..., 1:] + out.pred_stats[..., :1]
        elif self.target == 'normalized':
            values = self.patchify(x)
            positions = values.shape[1] // out.num_groups
            weights = self.token_weights(x.shape[1], positions, x.device)
            mean, std = self.token_stats(values, weights)
            pred = pred * std + mean
        num_bands = x.shape[1]
        recon = self.unpatchify(pred, num_bands, out.grid_size)
        mask_tokens = (
            out.mask[..., None].expand(-1, -1, self.token_values).to(pred.dtype)
        )
        mask = self.unpatchify(mask_tokens, num_bands, out.grid_size) > 0.5
        return recon, mask
