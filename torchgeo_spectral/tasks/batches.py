"""The task mix-in every spectral task shares: its encoder and its batches."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from lightning.pytorch import LightningModule
from torch import Tensor

from ..models.backbone import (
    check_model_name,
    create_spectral_vit,
    load_pretrained_backbone,
    size_overrides,
)
from ..models.spectral_vit import SpectralViT
from ..models.transfer import TransferReport
from ..models.weights import TASK_CLASS_KEY, SpectralWeightsEnum, load_spectral_weights
from .wavelengths import batch_wavelengths, fallback_wavelengths


class SpectralBatchMixin(LightningModule):
    """Encoder arguments, band centres for the model, a first-batch check.

    The encoder arguments are declared here once for pretraining and every
    fine-tuning task; subclasses reach them through ``**kwargs``, which
    LightningCLI follows, so they stay settable from YAML. ``wavelengths`` or
    ``sensor`` give the band centres assumed for batches that carry none (e.g.
    from stock TorchGeo data modules), validated once, when the encoder is
    built. Before fitting, the first training batch of a data module goes
    through :meth:`check_batch`, so that data the task cannot use fails before
    the first optimization step rather than mid-epoch.
    """

    #: Set to False to skip the first-batch check in :meth:`on_fit_start`.
    check_first_batch: bool = True
    #: What :meth:`create_encoder` loaded from ImageNet weights, if anything.
    transfer_report: TransferReport | None = None

    def __init__(
        self,
        *,
        model: str = 'spectral_vit_tiny',
        imagenet_weights: str | None = None,
        patch_size: int | None = None,
        bands_per_token: int | None = None,
        embed_dim: int | None = None,
        depth: int | None = None,
        num_heads: int | None = None,
        token_mode: Literal['joint', 'pooled'] | None = None,
        projection: Literal['shared', 'wavelength'] | None = None,
        wavelengths: list[float] | None = None,
        sensor: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize the task.

        Args:
            model: Spectral ViT name (``'spectral_vit_tiny'``, ``'_small'``,
                ``'_base'``, optionally with a sensor tag); an unknown name
                fails at once with the list of valid names.
            imagenet_weights: Local file or timm name of an ImageNet ViT whose
                blocks (and RGB patch projection) initialize the encoder.
            patch_size: Spatial patch size (must match pretrained weights);
                None keeps the model's default.
            bands_per_token: Bands per spectral group (must match pretrained
                weights); None keeps the default.
            embed_dim: Token width, for a custom size.
            depth: Number of encoder blocks, for a custom size.
            num_heads: Attention heads, for a custom size.
            token_mode: ``'joint'`` or ``'pooled'`` attention (see
                :class:`~torchgeo_spectral.models.SpectralViT`; must match
                pretrained weights); None keeps the model's default.
            projection: How tokens are projected (see
                :class:`~torchgeo_spectral.models.SpectralViT`): ``'shared'`` (one
                kernel per band position in a group, initialized from ImageNet's
                RGB projection when ``imagenet_weights`` is given) or
                ``'wavelength'`` (kernels generated from each band's wavelength,
                so the same physics gets the same weights on every sensor). None
                (default): ``'wavelength'``, or ``'shared'`` with
                ``imagenet_weights`` (ImageNet's RGB kernel needs the shared
                projection). The accuracy benchmark measured ``'wavelength'``
                ahead on fine-tuning and on unseen sensors.
            wavelengths: Band centres (nm) for batches without ``wavelength``.
            sensor: Sensor whose band centres serve as ``wavelengths``.
            **kwargs: Arguments of the task below in the class hierarchy.
        """
        check_model_name(model)
        super().__init__(**kwargs)

    def create_encoder(self, *, imagenet: bool = True, **options: Any) -> SpectralViT:
        """Build the spectral ViT from the hyperparameters.

        Also validates the fallback ``wavelengths``/``sensor`` (once).

        Args:
            imagenet: Load ``imagenet_weights`` when given.
            **options: Further :class:`~torchgeo_spectral.models.SpectralViT`
                arguments (None values are dropped).

        Returns:
            The encoder.
        """
        hp = self.hparams
        self.default_wavelengths()
        encoder = create_spectral_vit(
            hp['model'],
            **size_overrides(
                patch_size=hp['patch_size'],
                bands_per_token=hp['bands_per_token'],
                embed_dim=hp['embed_dim'],
                depth=hp['depth'],
                num_heads=hp['num_heads'],
            ),
            token_mode=hp['token_mode'],
            projection=self.projection(),
            **options,
        )
        if imagenet and hp['imagenet_weights']:
            from torchgeo_spectral.models import load_imagenet_weights

            self.transfer_report = load_imagenet_weights(
                encoder, hp['imagenet_weights']
            )
        return encoder

    def projection(self) -> Literal['shared', 'wavelength']:
        """The token projection of the encoder (see ``projection`` in ``__init__``).

        Returns:
            ``'shared'`` or ``'wavelength'``.
        """
        hp = self.hparams
        chosen: Literal['shared', 'wavelength'] | None = hp.get('projection')
        if chosen is None:
            return 'shared' if hp['imagenet_weights'] else 'wavelength'
        return chosen

    def load_encoder_weights(
        self, encoder: SpectralViT, weights: SpectralWeightsEnum | Path | None
    ) -> None:
        """Load pretrained weights (see :func:`resolve_weights`) into the encoder.

        Args:
            encoder: The spectral ViT.
            weights: A released member (e.g.
                :attr:`~torchgeo_spectral.models.SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION`),
                a SpectralMAETask checkpoint or weights file, or None (nothing).
        """
        if isinstance(weights, SpectralWeightsEnum):
            load_spectral_weights(encoder, weights)
        elif weights is not None:
            load_pretrained_backbone(encoder, weights)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the task's class path beside the hyperparameters.

        Inference rebuilds a task from its checkpoint by this path (see
        :func:`torchgeo_spectral.inference.load_task`), also for checkpoints of
        tasks trained with a plain ``Trainer`` rather than the CLI.

        Args:
            checkpoint: The checkpoint being saved.
        """
        super().on_save_checkpoint(checkpoint)
        checkpoint[TASK_CLASS_KEY] = (
            f'{type(self).__module__}.{type(self).__qualname__}'
        )

    def default_wavelengths(self) -> Tensor | None:
        """Band centres from the ``wavelengths``/``sensor`` hyperparameters.

        Returns:
            Band centres (C,) or None.
        """
        if not hasattr(self, '_fallback_wavelengths'):
            self._fallback_wavelengths = fallback_wavelengths(
                self.hparams.get('wavelengths'), self.hparams.get('sensor')
            )
        return self._fallback_wavelengths

    def batch_wavelengths(self, batch: Mapping[str, Any]) -> Tensor:
        """Band centres to pass to the model with the batch's image.

        Args:
            batch: A batch with ``image`` and (usually) ``wavelength``.

        Returns:
            ``batch['wavelength']`` or the fallback, on the image's device.
        """
        return batch_wavelengths(batch, self.default_wavelengths())

    def on_fit_start(self) -> None:
        """Check the first training batch of the data module before training."""
        super().on_fit_start()
        if not self.check_first_batch:
            return
        datamodule = getattr(self.trainer, 'datamodule', None)
        if datamodule is None:
            return
        batch = next(iter(datamodule.train_dataloader()), None)
        if isinstance(batch, Mapping) and 'image' in batch:
            self.check_batch(batch)

    def check_batch(self, batch: Mapping[str, Any]) -> None:
        """Checks of the first training batch (only its wavelengths by default).

        Args:
            batch: The first training batch, on the CPU.
        """
        self.batch_wavelengths(batch)
