"""TorchGeo datasets for proximal and remote spectral imagery."""
