"""torchgeo-spectral: a spectral masked-autoencoder foundation model for TorchGeo.

Importing the package registers the ``spectral_vit_*`` backbones in timm, so that
TorchGeo's tasks (and ``timm.create_model``) can build them by name.
"""

__version__ = '0.1.0'

from . import models

__all__ = ('__version__', 'models')
