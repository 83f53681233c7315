"""SpectralMAETask: masked-autoencoder pretraining of the spectral ViT."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, override

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities.types import OptimizerLRScheduler
from torch import Tensor, nn
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

    With ``material_classes > 0``, batches that carry ``mask`` (each pixel's
    material class, as the spectral-library patches of
    :class:`~torchgeo_spectral.datamodules.FoundationDataModule` do) add a
    supervised material term: a linear head classifies single pixels of the
    batch from their pooled embedding, the feature a few-label classifier with
    ``window_size=1`` starts from. Reconstruction alone does not teach the
    encoder which spectral differences separate materials; the library knows.

    Logs ``train_loss`` and ``val_loss``, the reconstruction loss (plus
    ``train_material_loss`` and ``val_material_loss`` with the material term,
    whose weighted sum with ``train_loss`` is what the optimizer minimizes).
    Each validation epoch draws a figure of
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
        material_classes: int = 0,
        material_loss_weight: float = 1.0,
        material_pixels: int = 8,
        material_min_bands: int = 1,
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
            material_classes: Classes of the batches' ``mask`` for the material
                term (e.g. 26, the earthlib level-3 materials of
                ``FoundationDataModule(library_level=3)``); 0 turns it off.
            material_loss_weight: Weight of the material cross-entropy next to
                the reconstruction loss.
            material_pixels: Pixels per sample that the material head classifies
                (distinct, drawn at random like the masks; ``patch_size``
                cells for patch tokens).
            material_min_bands: Fewest bands a batch needs for the material
                term: library batches of fewer bands (random band sets start at
                3) train the MAE only, since a handful of bands cannot tell 26
                materials apart (the shipped recipe uses 20).
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
            ValueError: For an unknown model, optimizer, ratio or masking mode,
                or a negative material setting.
        """
        for name, ratio in (
            ('spatial_mask_ratio', spatial_mask_ratio),
            ('spectral_mask_ratio', spectral_mask_ratio),
        ):
            if not 0.0 <= ratio < 1.0:
                raise ValueError(f'{name} must be in [0, 1), got {ratio}')
        if (
            min(material_classes, material_loss_weight) < 0
            or min(material_pixels, material_min_bands) < 1
        ):
            msg = (
                'expected material_classes >= 0, material_loss_weight >= 0, '
                'material_pixels >= 1 and material_min_bands >= 1, got '
                f'{material_classes}, {material_loss_weight}, {material_pixels} '
                f'and {material_min_bands}'
            )
            raise ValueError(msg)
        if optimizer not in ('adamw', 'adam', 'sgd'):
            raise ValueError(
                f"unknown optimizer {optimizer!r}; choose 'adamw', 'adam' or 'sgd'"
            )
        self.weights = weights
        super().__init__(**kwargs)

    model: SpectralMAE
    material_head: nn.Linear | None

    def configure_models(self) -> None:
        """Build the encoder, the MAE and the material head (when asked for)."""
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
        # Checkpoints of earlier versions have no material setting: no head.
        classes = hp.get('material_classes', 0)
        self.material_head = (
            nn.Linear(encoder.embed_dim, classes) if classes > 0 else None
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
        wavelengths = self.batch_wavelengths(batch)
        output = self.model(x, wavelengths, generator=generator)
        loss: Tensor = output.loss
        self.log('train_loss', loss, batch_size=x.shape[0], prog_bar=True)
        if self.has_materials(batch):
            material = self.material_loss(x, wavelengths, batch['mask'], generator)
            self.log('train_material_loss', material, batch_size=x.shape[0])
            loss = loss + self.hparams['material_loss_weight'] * material
        return loss

    def has_materials(self, batch: dict[str, Any]) -> bool:
        """Whether the material term scores this batch.

        Args:
            batch: A batch with ``image`` and, for library patches, ``mask``.

        Returns:
            True if the task has a material head, the batch carries ``mask`` and
            at least ``material_min_bands`` bands.
        """
        # Checkpoints of earlier versions have no min_bands setting: every batch.
        min_bands = self.hparams.get('material_min_bands', 1)
        return (
            self.material_head is not None
            and 'mask' in batch
            and batch['image'].shape[1] >= min_bands
        )

    def material_loss(
        self,
        x: Tensor,
        wavelengths: Tensor,
        mask: Tensor,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Cross-entropy of the material head on single pixels of a batch.

        Each pixel (each ``patch_size`` cell for patch tokens, labelled with its
        most frequent class) is embedded alone, as a classifier with
        ``window_size=1`` sees it, so the term shapes the pooled pixel embedding
        that few-label fine-tuning and linear probes start from.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (C,) or (B, C) in nm.
            mask: Material class of every pixel (B, H, W).
            generator: Draws the pixels (None: the global random state).

        Returns:
            The mean cross-entropy.

        Raises:
            ValueError: If the head is off, or a class is outside
                ``[0, material_classes)``.
        """
        head = self.material_head
        if head is None:
            raise ValueError('material_loss needs material_classes > 0')
        batch, channels = x.shape[:2]
        p = self.encoder.patch_size
        rows, cols = x.shape[-2] // p, x.shape[-1] // p
        cells = x[..., : rows * p, : cols * p].unfold(2, p, p).unfold(3, p, p)
        cells = cells.permute(0, 2, 3, 1, 4, 5).reshape(batch, -1, channels, p, p)
        classes = mask[:, : rows * p, : cols * p].unfold(1, p, p).unfold(2, p, p)
        classes = classes.reshape(batch, rows * cols, p * p).long().mode(-1).values
        count = min(self.hparams['material_pixels'], rows * cols)
        scores = torch.rand(batch, rows * cols, generator=generator, device=x.device)
        index = scores.argsort(dim=1)[:, :count]
        labels = classes.gather(1, index).reshape(-1)
        # One host sync for the range check (this runs every training step).
        low, high = torch.stack(torch.aminmax(labels)).tolist()
        if low < 0 or high >= head.out_features:
            msg = (
                f'mask holds material classes {low}..{high}, expected 0..'
                f'{head.out_features - 1} (material_classes={head.out_features}; '
                'FoundationDataModule.library_classes names the classes)'
            )
            raise ValueError(msg)
        chosen = cells.gather(
            1, index[..., None, None, None].expand(-1, -1, channels, p, p)
        ).reshape(batch * count, channels, p, p)
        if wavelengths.ndim == 2:
            wavelengths = wavelengths.repeat_interleave(count, dim=0)
        # The encoder has no classifier (num_classes=0): it returns the pooled
        # embedding that fine-tuning's head reads.
        return F.cross_entropy(head(self.encoder(chosen, wavelengths)), labels)

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
        if self.has_materials(batch):
            material = self.material_loss(
                x, wavelengths, batch['mask'], self._generator(x.device, batch_idx)
            )
            self.log(
                f'{stage}_material_loss',
                material,
                batch_size=x.shape[0],
                sync_dist=True,
            )
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
