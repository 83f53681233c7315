"""torchgeo-spectral: a spectral masked-autoencoder foundation model for TorchGeo."""

__version__ = '0.1.0'
