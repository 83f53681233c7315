"""A task mix-in: the batch's band centres, with the task's fallback."""

from collections.abc import Mapping
from typing import Any

from lightning.pytorch import LightningModule
from torch import Tensor

from .wavelengths import batch_wavelengths, fallback_wavelengths


class SpectralBatchMixin(LightningModule):
    """Band centres for the model, and a first-batch check before fitting.

    Tasks using it take optional ``wavelengths`` or ``sensor`` hyperparameters:
    the band centres assumed for batches that carry none (e.g. from stock
    TorchGeo data modules), validated once, when the model is built. Before
    fitting, the first training batch of a data module goes through
    :meth:`check_batch`, so that data the task cannot use fails before the first
    optimization step rather than mid-epoch.
    """

    #: Set to False to skip the first-batch check in :meth:`on_fit_start`.
    check_first_batch: bool = True

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
