"""Wavelength-aware fine-tuning tasks built on TorchGeo's tasks.

Each task subclasses its TorchGeo counterpart and keeps its losses, metrics,
plotting and CLI arguments; :class:`SpectralFineTuneMixin` adds what they share:
reading ``batch['wavelength']`` and passing it to the backbone, building a
spectral ViT by name, initialising it from a :class:`SpectralMAETask` checkpoint
or exported encoder weights, and freezing it for linear probing.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

from torch import Tensor
from torchgeo.tasks import (
    Classification,
    PixelwiseRegression,
    Regression,
    SemanticSegmentation,
)

from torchgeo_spectral.models import SpectralViT

from ..models.backbone import (
    check_model_name,
    create_spectral_vit,
    freeze,
    load_pretrained_backbone,
    size_overrides,
)
from ..models.heads import SpectralDenseModel
from .batches import SpectralBatchMixin
from .wavelengths import WavelengthError

#: A batch dictionary (TorchGeo's ``Sample`` of stacked tensors).
Batch = Any


class SpectralFineTuneMixin(SpectralBatchMixin):
    """Shared spectral-backbone logic of the fine-tuning tasks.

    The step methods of the TorchGeo task run unchanged; before each, the
    batch's band centres are read (and checked) so that :meth:`forward` can pass
    them to the model.
    """

    model: Any
    _step_wavelengths: Tensor | None = None

    def create_backbone(self, num_classes: int) -> SpectralViT:
        """Build the spectral ViT from the hyperparameters and load weights.

        ``weights`` (a SpectralMAETask ``.ckpt`` or exported encoder weights)
        takes precedence over ``imagenet_weights``.

        Args:
            num_classes: Size of the backbone's own linear head (0 for none).

        Returns:
            The backbone.
        """
        hp = self.hparams
        backbone = create_spectral_vit(
            hp['model'],
            num_classes=num_classes,
            wavelengths=self.default_wavelengths(),
            **size_overrides(
                patch_size=hp.get('patch_size'),
                bands_per_token=hp.get('bands_per_token'),
                embed_dim=hp.get('embed_dim'),
                depth=hp.get('depth'),
                num_heads=hp.get('num_heads'),
            ),
        )
        weights = getattr(self, 'weights', None)
        if isinstance(weights, str | Path):
            load_pretrained_backbone(backbone, weights)
        elif weights:
            raise ValueError(
                'weights must be the path of a SpectralMAETask checkpoint or of '
                f'exported encoder weights, got {weights!r}; use imagenet_weights '
                'for ImageNet initialisation'
            )
        elif hp.get('imagenet_weights'):
            from torchgeo_spectral.models import load_imagenet_weights

            load_imagenet_weights(backbone, hp['imagenet_weights'])
        return backbone

    def forward(self, x: Tensor, wavelengths: Tensor | None = None) -> Tensor:
        """Run the model with the current batch's band centres.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (C,) in nm; by default those of the batch
                being processed, else the task's ``wavelengths``/``sensor``.

        Returns:
            Model output.

        Raises:
            WavelengthError: If no band centres are known or they disagree with
                the channels of ``x``.
        """
        if wavelengths is None:
            wavelengths = self._step_wavelengths
        if wavelengths is None:
            wavelengths = self.default_wavelengths()
        if wavelengths is None:
            raise WavelengthError(
                'no wavelengths: pass them, or give the task wavelengths=/sensor='
            )
        if wavelengths.numel() != x.shape[-3]:
            raise WavelengthError(
                f'{wavelengths.numel()} wavelengths for {x.shape[-3]} channels'
            )
        out: Tensor = self.model(x, wavelengths.to(x.device))
        return out

    def _read_wavelengths(self, batch: Batch) -> None:
        """Remember the band centres of the batch about to be processed.

        Args:
            batch: The batch.
        """
        self._step_wavelengths = self.batch_wavelengths(batch)

    def training_step(
        self, batch: Batch, batch_idx: int, dataloader_idx: int = 0
    ) -> Tensor:
        """Run the TorchGeo training step with the batch's wavelengths.

        Args:
            batch: Batch with ``image``, ``wavelength`` and the target.
            batch_idx: Index of the batch.
            dataloader_idx: Index of the dataloader.

        Returns:
            The loss.
        """
        self._read_wavelengths(batch)
        loss = super().training_step(batch, batch_idx, dataloader_idx)
        return cast(Tensor, loss)

    def validation_step(
        self, batch: Batch, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        """Run the TorchGeo validation step with the batch's wavelengths.

        Args:
            batch: Batch with ``image``, ``wavelength`` and the target.
            batch_idx: Index of the batch.
            dataloader_idx: Index of the dataloader.
        """
        self._read_wavelengths(batch)
        super().validation_step(batch, batch_idx, dataloader_idx)

    def test_step(self, batch: Batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Run the TorchGeo test step with the batch's wavelengths.

        Args:
            batch: Batch with ``image``, ``wavelength`` and the target.
            batch_idx: Index of the batch.
            dataloader_idx: Index of the dataloader.
        """
        self._read_wavelengths(batch)
        super().test_step(batch, batch_idx, dataloader_idx)

    def predict_step(
        self, batch: Batch, batch_idx: int, dataloader_idx: int = 0
    ) -> Any:
        """Run the TorchGeo predict step with the batch's wavelengths.

        Args:
            batch: Batch with ``image`` and ``wavelength``.
            batch_idx: Index of the batch.
            dataloader_idx: Index of the dataloader.

        Returns:
            Predictions.
        """
        self._read_wavelengths(batch)
        return super().predict_step(batch, batch_idx, dataloader_idx)


def _num_outputs(hp: Any) -> int:
    """Output count of a classification-style task.

    Args:
        hp: The task's hyperparameters.

    Returns:
        ``num_classes`` or ``num_labels``, else 1.
    """
    return int(hp['num_classes'] or hp['num_labels'] or 1)


class SpectralClassificationTask(SpectralFineTuneMixin, Classification):
    """Image classification with a spectral ViT (linear head on the embedding).

    Arguments not documented here are those of
    :class:`torchgeo.tasks.Classification`.
    """

    def __init__(
        self,
        model: str = 'spectral_vit_tiny',
        weights: str | None = None,
        imagenet_weights: str | None = None,
        in_channels: int | None = None,
        task: Literal['binary', 'multiclass', 'multilabel'] = 'multiclass',
        num_classes: int | None = None,
        num_labels: int | None = None,
        labels: list[str] | None = None,
        pos_weight: Tensor | None = None,
        loss: Literal['ce', 'bce', 'jaccard', 'focal', 'dice'] = 'ce',
        class_weights: Tensor | Sequence[float] | None = None,
        ignore_index: int | None = None,
        lr: float = 1e-3,
        patience: int = 10,
        freeze_backbone: bool = False,
        patch_size: int | None = None,
        bands_per_token: int | None = None,
        embed_dim: int | None = None,
        depth: int | None = None,
        num_heads: int | None = None,
        wavelengths: list[float] | None = None,
        sensor: str | None = None,
    ) -> None:
        """Initialise the task.

        Args:
            model: Spectral ViT name (``'spectral_vit_tiny'``, ``'_small'``,
                ``'_base'``, optionally with a sensor tag).
            weights: SpectralMAETask checkpoint (``.ckpt``) or exported encoder
                weights to initialise the backbone from.
            imagenet_weights: Local file or timm name of ImageNet ViT weights
                (used when ``weights`` is None).
            in_channels: Unused (the backbone takes any band count); kept for
                compatibility with TorchGeo configs.
            task: See :class:`torchgeo.tasks.Classification`.
            num_classes: Number of classes.
            num_labels: Number of labels (multilabel).
            labels: Class names.
            pos_weight: Positive weight for ``'bce'``.
            loss: Loss name.
            class_weights: Class weights for ``'ce'``.
            ignore_index: Class index to ignore.
            lr: Learning rate.
            patience: Patience of the plateau scheduler.
            freeze_backbone: Train only the linear head (linear probing).
            patch_size: Spatial patch size (must match the pretrained weights).
            bands_per_token: Bands per token (must match the pretrained weights).
            embed_dim: Custom token width.
            depth: Custom number of blocks.
            num_heads: Custom number of heads.
            wavelengths: Band centres (nm) for batches without ``wavelength``.
            sensor: Sensor whose band centres serve as ``wavelengths``.
        """
        check_model_name(model)
        super().__init__(
            model=model,
            weights=weights,
            in_channels=in_channels or 0,
            task=task,
            num_classes=num_classes,
            num_labels=num_labels,
            labels=labels,
            pos_weight=pos_weight,
            loss=loss,
            class_weights=class_weights,
            ignore_index=ignore_index,
            lr=lr,
            patience=patience,
            freeze_backbone=freeze_backbone,
        )

    def configure_models(self) -> None:
        """Build the backbone with its linear head; freeze it for probing."""
        self.model = self.create_backbone(num_classes=_num_outputs(self.hparams))
        if self.hparams['freeze_backbone']:
            freeze(self.model, self.model.get_classifier())


class SpectralRegressionTask(SpectralFineTuneMixin, Regression):
    """Image-level regression with a spectral ViT (linear head on the embedding).

    Arguments not documented here are those of :class:`torchgeo.tasks.Regression`.
    """

    def __init__(
        self,
        model: str = 'spectral_vit_tiny',
        weights: str | None = None,
        imagenet_weights: str | None = None,
        in_channels: int | None = None,
        num_outputs: int = 1,
        labels: list[str] | None = None,
        loss: Literal['mae', 'mse'] = 'mse',
        lr: float = 1e-3,
        patience: int = 10,
        freeze_backbone: bool = False,
        patch_size: int | None = None,
        bands_per_token: int | None = None,
        embed_dim: int | None = None,
        depth: int | None = None,
        num_heads: int | None = None,
        wavelengths: list[float] | None = None,
        sensor: str | None = None,
    ) -> None:
        """Initialise the task.

        Args:
            model: Spectral ViT name.
            weights: SpectralMAETask checkpoint or exported encoder weights.
            imagenet_weights: ImageNet ViT weights (file or timm name).
            in_channels: Unused; kept for compatibility with TorchGeo configs.
            num_outputs: Number of regression targets.
            labels: Target names.
            loss: ``'mse'`` or ``'mae'``.
            lr: Learning rate.
            patience: Patience of the plateau scheduler.
            freeze_backbone: Train only the linear head.
            patch_size: Spatial patch size.
            bands_per_token: Bands per token.
            embed_dim: Custom token width.
            depth: Custom number of blocks.
            num_heads: Custom number of heads.
            wavelengths: Band centres (nm) for batches without ``wavelength``.
            sensor: Sensor whose band centres serve as ``wavelengths``.
        """
        check_model_name(model)
        super().__init__(
            model=model,
            weights=weights,
            in_channels=in_channels or 0,
            num_outputs=num_outputs,
            labels=labels,
            loss=loss,
            lr=lr,
            patience=patience,
            freeze_backbone=freeze_backbone,
        )

    def configure_models(self) -> None:
        """Build the backbone with its linear head; freeze it for probing."""
        self.model = self.create_backbone(num_classes=int(self.hparams['num_outputs']))
        if self.hparams['freeze_backbone']:
            freeze(self.model, self.model.get_classifier())


class SpectralSegmentationTask(SpectralFineTuneMixin, SemanticSegmentation):
    """Semantic segmentation: spectral ViT feature map + light conv head.

    The head (:class:`~torchgeo_spectral.models.FeatureMapHead`) decodes
    the (B, D, H/p, W/p) feature map and upsamples to the input size.
    Arguments not documented here are those of
    :class:`torchgeo.tasks.SemanticSegmentation`.
    """

    def __init__(
        self,
        model: str = 'spectral_vit_tiny',
        weights: str | None = None,
        imagenet_weights: str | None = None,
        in_channels: int | None = None,
        task: Literal['binary', 'multiclass', 'multilabel'] = 'multiclass',
        num_classes: int | None = None,
        num_labels: int | None = None,
        labels: list[str] | None = None,
        head_channels: int = 64,
        pos_weight: Tensor | None = None,
        loss: Literal['ce', 'bce', 'jaccard', 'focal', 'dice'] = 'ce',
        class_weights: Tensor | Sequence[float] | None = None,
        ignore_index: int | None = None,
        lr: float = 1e-3,
        patience: int = 10,
        freeze_backbone: bool = False,
        freeze_decoder: bool = False,
        patch_size: int | None = None,
        bands_per_token: int | None = None,
        embed_dim: int | None = None,
        depth: int | None = None,
        num_heads: int | None = None,
        wavelengths: list[float] | None = None,
        sensor: str | None = None,
    ) -> None:
        """Initialise the task.

        Args:
            model: Spectral ViT name.
            weights: SpectralMAETask checkpoint or exported encoder weights.
            imagenet_weights: ImageNet ViT weights (file or timm name).
            in_channels: Unused; kept for compatibility with TorchGeo configs.
            task: ``'binary'``, ``'multiclass'`` or ``'multilabel'``.
            num_classes: Number of classes.
            num_labels: Number of labels (multilabel).
            labels: Class names.
            head_channels: Channels of the head's conv block.
            pos_weight: Positive weight for ``'bce'``.
            loss: Loss name.
            class_weights: Class weights for ``'ce'``.
            ignore_index: Class index to ignore (e.g. unlabelled pixels).
            lr: Learning rate.
            patience: Patience of the plateau scheduler.
            freeze_backbone: Train only the head.
            freeze_decoder: Also freeze the head's conv block (train the 1x1
                classifier only).
            patch_size: Spatial patch size.
            bands_per_token: Bands per token.
            embed_dim: Custom token width.
            depth: Custom number of blocks.
            num_heads: Custom number of heads.
            wavelengths: Band centres (nm) for batches without ``wavelength``.
            sensor: Sensor whose band centres serve as ``wavelengths``.
        """
        check_model_name(model)
        super().__init__(
            model=cast(Any, model),
            weights=weights,
            in_channels=in_channels or 0,
            task=task,
            num_classes=num_classes,
            num_labels=num_labels,
            labels=labels,
            pos_weight=pos_weight,
            loss=loss,
            class_weights=class_weights,
            ignore_index=ignore_index,
            lr=lr,
            patience=patience,
            freeze_backbone=freeze_backbone,
            freeze_decoder=freeze_decoder,
        )

    def configure_models(self) -> None:
        """Build backbone and head; freeze parts as asked."""
        hp = self.hparams
        model = SpectralDenseModel(
            self.create_backbone(num_classes=0), _num_outputs(hp), hp['head_channels']
        )
        if hp['freeze_backbone']:
            freeze(model.backbone)
        if hp['freeze_decoder']:
            freeze(model.decoder)
        self.model = model


class SpectralPixelwiseRegressionTask(SpectralFineTuneMixin, PixelwiseRegression):
    """Per-pixel regression (target ``mask``): spectral ViT + light conv head.

    Arguments not documented here are those of
    :class:`torchgeo.tasks.PixelwiseRegression`.
    """

    def __init__(
        self,
        model: str = 'spectral_vit_tiny',
        weights: str | None = None,
        imagenet_weights: str | None = None,
        in_channels: int | None = None,
        head_channels: int = 64,
        loss: Literal['mae', 'mse'] = 'mse',
        lr: float = 1e-3,
        patience: int = 10,
        freeze_backbone: bool = False,
        freeze_decoder: bool = False,
        patch_size: int | None = None,
        bands_per_token: int | None = None,
        embed_dim: int | None = None,
        depth: int | None = None,
        num_heads: int | None = None,
        wavelengths: list[float] | None = None,
        sensor: str | None = None,
    ) -> None:
        """Initialise the task.

        Args:
            model: Spectral ViT name.
            weights: SpectralMAETask checkpoint or exported encoder weights.
            imagenet_weights: ImageNet ViT weights (file or timm name).
            in_channels: Unused; kept for compatibility with TorchGeo configs.
            head_channels: Channels of the head's conv block.
            loss: ``'mse'`` or ``'mae'``.
            lr: Learning rate.
            patience: Patience of the plateau scheduler.
            freeze_backbone: Train only the head.
            freeze_decoder: Also freeze the head's conv block.
            patch_size: Spatial patch size.
            bands_per_token: Bands per token.
            embed_dim: Custom token width.
            depth: Custom number of blocks.
            num_heads: Custom number of heads.
            wavelengths: Band centres (nm) for batches without ``wavelength``.
            sensor: Sensor whose band centres serve as ``wavelengths``.
        """
        check_model_name(model)
        super().__init__(
            model=model,
            weights=weights,
            in_channels=in_channels or 0,
            num_outputs=1,
            loss=loss,
            lr=lr,
            patience=patience,
            freeze_backbone=freeze_backbone,
            freeze_decoder=freeze_decoder,
        )

    def configure_models(self) -> None:
        """Build backbone and one-output head; freeze parts as asked."""
        hp = self.hparams
        model = SpectralDenseModel(
            self.create_backbone(num_classes=0), 1, hp['head_channels']
        )
        if hp['freeze_backbone']:
            freeze(model.backbone)
        if hp['freeze_decoder']:
            freeze(model.decoder)
        self.model = model
