"""Spectral ViT encoder, spectral MAE and their timm registration."""
