"""The ``torchgeo-spectral demo`` command: a synthetic scene, pretraining, few labels.

* :func:`generate_scene` / :func:`write_scene`: a physically plausible synthetic
  EnMAP-like hyperspectral scene with labels, as GeoTIFFs.
* :class:`SyntheticSceneDataModule`: chips of that scene for configs.
* :func:`run_demo`: pretrain, fine-tune with few labels, compare with scratch.
"""

from .data import PixelPatches, SceneChips, SyntheticSceneDataModule, demo_wavelengths
from .scene import SyntheticScene, generate_scene, read_scene, write_scene
from .spectra import MATERIALS, material_spectra

__all__ = [
    'MATERIALS',
    'PixelPatches',
    'SceneChips',
    'SyntheticScene',
    'SyntheticSceneDataModule',
    'demo_wavelengths',
    'generate_scene',
    'material_spectra',
    'read_scene',
    'write_scene',
]
