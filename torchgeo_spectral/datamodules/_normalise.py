"""Old name of :mod:`torchgeo_spectral.datamodules._normalize` (British spelling).

Kept only until every data module imports ``_normalize``; remove it then.
"""

from ._normalize import augmentations, resolve_statistics

__all__ = ['augmentations', 'resolve_statistics']
