"""SpectralMAETask: masked-autoencoder pretraining of the spectral ViT."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, override

import torch
from lightning.pytorch.utilities.types import OptimizerLRScheduler
from torch import Tensor
from torchgeo.tasks import BaseTask
from torchvision.models._api import WeightsEnum

from torchgeo_spectral.models import SpectralMAE, SpectralViT

from ..models.backbone import ENCODER_CONFIG_KEY
from ..models.weights import resolve_weights
from ..plot import reconstruction_figure, save_figure
from .batches import SpectralBatchMixin
from .optim import build_optimizer, parameter_groups, trainer_schedule

#: Seed of the masks drawn in validation (the same masks every epoch).
VAL_MASK_SEED = 1234


class SpectralMAETask(SpectralBatchMixin, BaseTask):
    """Pretrain a :class:`~torchgeo_spectral.models.SpectralMAE` on spectral cubes.

    Batches must carry ``image`` (B, C, H, W) and ``wavelength`` ((B, C) or (C,)
    band centres in nm). Consecutive batches may come from different sensors
    (e.g. proximal and remote cubes), but one batch holds one band set; a batch
    that mixes band sets, or whose wavelength count disagrees with its
    channels, raises :class:`~torchgeo_spectral.tasks.WavelengthError`.

    Logs ``train_loss`` and ``val_loss``. Each validation epoch draws a figure of
    one validation sample (input, masked input, reconstruction as false-colour
    images, and a few pixel spectra): to TensorBoard through
    ``logger.experiment.add_figure`` when a logger supports it, otherwise as PNG
    files under ``<log_dir>/figures``.
    """

    monitor = 'val_loss'
    mode = 'min'

    def __init__(
        self,
        *,
        decoder_embed_dim: int = 128,
        decoder_depth: int = 2,
        decoder_num_heads: int = 4,
        spatial_mask_ratio: float = 0.75,
        spectral_mask_ratio: float = 0.5,
        spectral_mask_mode: Literal['shared', 'per_position'] = 'shared',
        target: Literal['pixels', 'normalized', 'normalized+stats'] = 'pixels',
        visible_loss_weight: float = 0.0,
        optimizer: Literal['adamw', 'adam', 'sgd'] = 'adamw',
        lr: float = 1.5e-4,
        weight_decay: float = 0.05,
        warmup_epochs: float = 0.0,
        warmup_steps: int | None = None,
        min_lr_ratio: float = 0.0,
        plot_pixels: int = 3,
        mask_seed: int | None = None,
        weights: WeightsEnum | str | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialise the task and build the model.

        Args:
            decoder_embed_dim: Width of the MAE decoder.
            decoder_depth: Number of decoder blocks.
            decoder_num_heads: Attention heads of the decoder.
            spatial_mask_ratio: Fraction of spatial positions hidden.
            spectral_mask_ratio: Fraction of spectral groups hidden among the
                positions left visible.
            spectral_mask_mode: ``'shared'`` (same groups at every position) or
                ``'per_position'``.
            target: What the MAE reconstructs (see
                :class:`~torchgeo_spectral.models.SpectralMAE`): ``'pixels'`` (the
                default: raw values, so brightness, e.g. dark water against bright
                roofs, is kept), ``'normalized'`` (per-token normalized values, the
                MAE reference's ``norm_pix_loss``) or ``'normalized+stats'``.
            visible_loss_weight: Weight of the visible tokens' reconstruction
                error next to the masked ones' (0: masked only, as in MAE). With
                1 the encoder must keep every visible token's band values,
                including spectral detail that does not predict other groups;
                it helped fine-tuning on the pretraining scene and hurt transfer
                to other band sets (see the training guide), so it is off.
            optimizer: ``'adamw'``, ``'adam'`` or ``'sgd'``.
            lr: Peak learning rate.
            weight_decay: Weight decay (not applied to biases, norms, embeddings).
            warmup_epochs: Linear warmup length in epochs (fractions allowed).
            warmup_steps: Linear warmup length in optimiser steps; overrides
                ``warmup_epochs`` when given.
            min_lr_ratio: Final learning rate of the cosine decay, as a fraction
                of ``lr``.
            plot_pixels: Number of pixel spectra in the validation figure.
            mask_seed: Seed of the training masks, drawn per step from
                ``(mask_seed, global_step, rank)``: training becomes reproducible
                and resumes exactly from a checkpoint. None draws them from the
                global random state.
            weights: Start from pretrained encoder weights: a
                :class:`~torchgeo_spectral.models.SpectralViT_Weights` member or
                its name (e.g. ``SPECTRAL_MAE_FOUNDATION``), a SpectralMAETask
                checkpoint or a weights file (the decoder starts afresh).
            **kwargs: The encoder arguments of
                :class:`~torchgeo_spectral.tasks.batches.SpectralBatchMixin`
                (``model``, ``patch_size``, ``imagenet_weights``, ``wavelengths``...).

        Raises:
            ValueError: For an unknown model, optimizer, ratio or masking mode.
        """
        for name, ratio in (
            ('spatial_mask_ratio', spatial_mask_ratio),
            ('spectral_mask_ratio', spectral_mask_ratio),
        ):
            if not 0.0 <= ratio < 1.0:
                raise ValueError(f'{name} must be in [0, 1), got {ratio}')
        if optimizer not in ('adamw', 'adam', 'sgd'):
            raise ValueError(
                f"unknown optimizer {optimizer!r}; choose 'adamw', 'adam' or 'sgd'"
            )
        self.weights = weights
        super().__init__(**kwargs)

    model: SpectralMAE

    def configure_models(self) -> None:
        """Build the encoder (from ``weights`` or ImageNet weights) and the MAE."""
        hp = self.hparams
        weights = resolve_weights(getattr(self, 'weights', None))
        encoder = self.create_encoder(imagenet=weights is None, num_classes=0)
        self.load_encoder_weights(encoder, weights)
        self.model = SpectralMAE(
            encoder,
            decoder_embed_dim=hp['decoder_embed_dim'],
            decoder_depth=hp['decoder_depth'],
            decoder_num_heads=hp['decoder_num_heads'],
            spatial_mask_ratio=hp['spatial_mask_ratio'],
            spectral_mask_ratio=hp['spectral_mask_ratio'],
            spectral_mask_mode=hp['spectral_mask_mode'],
            target=hp['target'],
            visible_loss_weight=hp['visible_loss_weight'],
        )

    @property
    def encoder(self) -> SpectralViT:
        """The spectral ViT encoder being pretrained."""
        encoder: SpectralViT = self.model.encoder
        return encoder

    def forward(self, x: Tensor, wavelengths: Tensor | None = None) -> Any:
        """Run the MAE (masking, encoder, decoder and loss).

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (C,) in nm.

        Returns:
            The MAE output (with ``loss``, ``pred`` and ``mask``).
        """
        return self.model(x, wavelengths)

    def check_batch(self, batch: Mapping[str, Any]) -> None:
        """Run the MAE once on the first training sample before training.

        Catches settings that cannot work with the data (e.g. patches too small
        for the mask ratios) before the first optimisation step.

        Args:
            batch: The first training batch, on the CPU.

        Raises:
            ValueError: With the model's message, prefixed by the batch shape.
        """
        x = batch['image'][:1].to(self.device)
        wavelengths = self.batch_wavelengths(batch).to(self.device)
        if wavelengths.ndim == 2:
            wavelengths = wavelengths[:1]
        try:
            with torch.no_grad():
                self.model(x, wavelengths, generator=self._generator(x.device, 0))
        except ValueError as error:
            raise ValueError(
                f'first training batch (image {tuple(batch["image"].shape)}): {error}'
            ) from error

    @override
    def training_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> Tensor:
        """Compute and log the reconstruction loss of one batch.

        Every step hook takes Lightning's ``(batch, batch_idx, dataloader_idx)``;
        a batch holds ``image`` and ``wavelength``.
        """
        x = batch['image']
        generator = None
        if self.hparams['mask_seed'] is not None:
            seed = (self.hparams['mask_seed'], self.global_step, self.global_rank)
            generator = torch.Generator(device=x.device).manual_seed(hash(seed) % 2**62)
        output = self.model(x, self.batch_wavelengths(batch), generator=generator)
        loss: Tensor = output.loss
        self.log('train_loss', loss, batch_size=x.shape[0], prog_bar=True)
        return loss

    def _generator(self, device: torch.device, offset: int) -> torch.Generator:
        """A seeded generator so that validation masks repeat every epoch.

        Args:
            device: Device of the masks.
            offset: Added to the seed (e.g. the batch index).

        Returns:
            The generator.
        """
        return torch.Generator(device=device).manual_seed(VAL_MASK_SEED + offset)

    def _evaluate(
        self, batch: dict[str, Any], batch_idx: int, stage: str
    ) -> tuple[Tensor, Tensor]:
        """Log the masked-reconstruction loss of a batch under fixed masks.

        Args:
            batch: Batch with ``image`` and ``wavelength``.
            batch_idx: Index of the batch (seeds its masks).
            stage: ``'val'`` or ``'test'``, the prefix of the logged loss.

        Returns:
            The images and their wavelengths.
        """
        x = batch['image']
        wavelengths = self.batch_wavelengths(batch)
        output = self.model(
            x, wavelengths, generator=self._generator(x.device, batch_idx)
        )
        self.log(f'{stage}_loss', output.loss, batch_size=x.shape[0], sync_dist=True)
        return x, wavelengths

    @override
    def validation_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        """Compute and log the validation loss; draw the figure on batch 0."""
        x, wavelengths = self._evaluate(batch, batch_idx, 'val')
        if batch_idx == 0 and not self.trainer.sanity_checking:
            first = wavelengths if wavelengths.ndim == 1 else wavelengths[0]
            self.log_reconstruction(x[:1], first)

    @override
    def test_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        """Compute and log the test loss."""
        self._evaluate(batch, batch_idx, 'test')

    @override
    def predict_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> Tensor:
        """Embed a batch with the encoder: one pooled embedding ``(B, D)`` per sample."""
        embedding: Tensor = self.encoder(batch['image'], self.batch_wavelengths(batch))
        return embedding

    def log_reconstruction(self, x: Tensor, wavelengths: Tensor) -> Path | None:
        """Draw a reconstruction figure and log it (TensorBoard) or save it (PNG).

        Args:
            x: One cube, shape (1, C, H, W).
            wavelengths: Band centres (C,) in nm.

        Returns:
            The PNG written, or None when a logger took the figure (or on
            non-zero ranks).
        """
        if not self.trainer.is_global_zero:
            return None
        with torch.no_grad():
            recon, mask = self.model.reconstruct(
                x, wavelengths, generator=self._generator(x.device, 0)
            )
        epoch = self.current_epoch
        fig = reconstruction_figure(
            x[0],
            recon[0],
            mask[0],
            wavelengths,
            num_pixels=self.hparams['plot_pixels'],
            title=f'epoch {epoch}, step {self.global_step}',
        )
        experiments = [getattr(logger, 'experiment', None) for logger in self.loggers]
        writers: list[Any] = [e for e in experiments if hasattr(e, 'add_figure')]
        for writer in writers:
            writer.add_figure('reconstruction', fig, global_step=self.global_step)
        if writers:
            return None
        folder = Path(self.trainer.log_dir or self.trainer.default_root_dir)
        return save_figure(
            fig, folder / 'figures' / f'reconstruction_epoch{epoch:03d}.png'
        )

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store the encoder's architecture config, checked when fine-tuning.

        Args:
            checkpoint: The checkpoint being written.
        """
        super().on_save_checkpoint(checkpoint)
        checkpoint[ENCODER_CONFIG_KEY] = self.encoder.config()

    def configure_optimizers(self) -> OptimizerLRScheduler:
        """AdamW (or Adam/SGD) with linear warmup and cosine decay per step.

        Returns:
            Optimizer and step-wise scheduler.
        """
        hp = self.hparams
        optimizer = build_optimizer(
            parameter_groups(self, hp['weight_decay']),
            hp['optimizer'],
            hp['lr'],
            hp['weight_decay'],
        )
        return {
            'optimizer': optimizer,
            'lr_scheduler': trainer_schedule(
                self.trainer,
                optimizer,
                warmup_epochs=hp['warmup_epochs'],
                warmup_steps=hp['warmup_steps'],
                min_lr_ratio=hp['min_lr_ratio'],
            ),
        }

    def export_encoder(
        self, path: str | Path, meta: dict[str, Any] | None = None
    ) -> Path:
        """Write the encoder weights for fine-tuning or sharing.

        Args:
            path: Output file (conventionally ``.pt``).
            meta: Extra metadata stored with the weights.

        Returns:
            The path written.
        """
        from torchgeo_spectral.models import save_encoder_weights

        info: dict[str, Any] = {
            key: self.hparams[key]
            for key in ('model', 'patch_size', 'bands_per_token', 'token_mode')
        }
        info['task'] = type(self).__name__
        info.update(meta or {})
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        save_encoder_weights(self.encoder, out, info)
        return out
