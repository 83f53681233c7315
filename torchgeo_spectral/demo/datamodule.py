"""The demo scene as a :class:`~torchgeo_spectral.datamodules.SceneDataModule`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torchgeo_spectral.datamodules import SceneDataModule

from .scene import DEMO_CLASSES, DEMO_SEED, generate_scene, write_scene

__all__ = ['DemoSceneDataModule']


class DemoSceneDataModule(SceneDataModule):
    """The own-scene workflow on the demo scene, generated on first use.

    ``scene.tif`` and ``labels.tif`` are written into ``root`` (no download)
    when absent; everything else, pretraining on every pixel
    (``mode='pretrain'``) or few-label fine-tuning on a spatial split, is
    :class:`~torchgeo_spectral.datamodules.SceneDataModule`.
    """

    def __init__(
        self,
        root: str = 'data/demo_scene',
        size: int = 96,
        sensor: str = 'enmap',
        scene_seed: int = DEMO_SEED,
        **kwargs: Any,
    ) -> None:
        """Initialize the data module.

        Args:
            root: Folder of the scene's GeoTIFFs (generated when missing).
            size: Scene height and width in pixels (when generating).
            sensor: Sensor of the scene's bands (when generating).
            scene_seed: Seed of the scene (when generating).
            **kwargs: :class:`~torchgeo_spectral.datamodules.SceneDataModule`
                arguments (``mode``, ``window_size``, ``tile_size``,
                ``budget``, ``batch_size``...).
        """
        self.folder = Path(root)
        self.size = size
        self.sensor = sensor
        self.scene_seed = scene_seed
        super().__init__(
            image=str(self.folder / 'scene.tif'),
            labels=str(self.folder / 'labels.tif'),
            class_names=list(DEMO_CLASSES),
            **kwargs,
        )

    def prepare_data(self) -> None:
        """Generate and write the scene once, when ``root`` does not hold it."""
        if not (self.folder / 'scene.tif').is_file():
            demo = generate_scene(self.size, self.sensor, self.scene_seed)
            write_scene(demo, self.folder)

    def setup(self, stage: str) -> None:
        """Make sure the scene exists, then set up as a SceneDataModule.

        Args:
            stage: ``'fit'``, ``'validate'``, ``'test'`` or ``'predict'``.
        """
        self.prepare_data()
        super().setup(stage)
