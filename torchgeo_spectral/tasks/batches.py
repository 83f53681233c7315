"""A task mix-in that reads and checks the wavelengths of every batch."""

from collections.abc import Mapping
from typing import Any

from lightning.pytorch import LightningModule
from torch import Tensor

from .wavelengths import WavelengthError, batch_wavelengths, default_wavelengths


class SpectralBatchMixin(LightningModule):
    """Reads ``batch['wavelength']`` and checks it before training starts.

    Tasks using it take optional ``wavelengths`` or ``sensor`` hyperparameters:
    the band centres assumed for batches that carry none (e.g. from stock
    TorchGeo data modules). Before fitting, the first training batch is loaded
    once and checked, so that a wavelength/channel mismatch is reported before
    the first optimisation step rather than mid-epoch.
    """

    #: Set to False to skip the first-batch check in :meth:`on_fit_start`.
    check_first_batch: bool = True

    def default_wavelengths(self) -> Tensor | None:
        """Band centres from the ``wavelengths``/``sensor`` hyperparameters.

        Returns:
            Band centres (C,) or None.
        """
        cached: Tensor | None = getattr(self, '_default_wl', None)
        if cached is None:
            cached = default_wavelengths(
                self.hparams.get('wavelengths'), self.hparams.get('sensor')
            )
            self._default_wl = cached
        return cached

    def batch_wavelengths(self, batch: Mapping[str, Any]) -> Tensor:
        """Band centres shared by the samples of a batch.

        Args:
            batch: A batch with ``image`` and (usually) ``wavelength``.

        Returns:
            Band centres (C,) on the image's device.
        """
        return batch_wavelengths(batch, self.default_wavelengths())

    def on_fit_start(self) -> None:
        """Check the first training batch's wavelengths before training.

        Raises:
            WavelengthError: If the batch has no usable wavelengths, mixes band
                sets, or its wavelength count disagrees with its channels.
        """
        super().on_fit_start()
        if not self.check_first_batch:
            return
        datamodule = getattr(self.trainer, 'datamodule', None)
        if datamodule is None:
            return
        batch = next(iter(datamodule.train_dataloader()), None)
        if isinstance(batch, Mapping) and 'image' in batch:
            try:
                self.batch_wavelengths(batch)
            except WavelengthError as error:
                raise type(error)(f'first training batch: {error}') from error
            self.check_batch(batch)

    def check_batch(self, batch: Mapping[str, Any]) -> None:
        """Further checks of the first training batch (none by default).

        Args:
            batch: The first training batch, on the CPU.
        """
