"""Lightning data modules for spectral datasets."""
