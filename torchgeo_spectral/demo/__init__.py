"""The ``torchgeo-spectral demo`` command: the pretrained checkpoint at work.

* :func:`generate_scene` / :func:`write_scene`: a realistic synthetic scene of
  real library spectra (earthlib) in land-cover classes, resampled to a real
  sensor, as GeoTIFFs with wavelength metadata.
* :func:`run_demo`: few labels on spatial blocks; the pretrained checkpoint
  fine-tuned, the same model from random init and a random forest; one table,
  a class-map GeoTIFF and a figure.
* :class:`DemoSceneDataModule`: the demo scene in the own-scene workflow, for
  configs (``conf/pretrain_demo.yaml``).
"""

from .datamodule import DemoSceneDataModule
from .figure import demo_figure
from .pipeline import FOUNDATION_WEIGHTS, DemoConfig, encoder_arguments, run_demo
from .scene import (
    DEMO_CLASSES,
    DEMO_SEED,
    DemoScene,
    demo_library,
    generate_scene,
    write_scene,
)

__all__ = [
    'DEMO_CLASSES',
    'DEMO_SEED',
    'FOUNDATION_WEIGHTS',
    'DemoConfig',
    'DemoScene',
    'DemoSceneDataModule',
    'demo_figure',
    'demo_library',
    'encoder_arguments',
    'generate_scene',
    'run_demo',
    'write_scene',
]
