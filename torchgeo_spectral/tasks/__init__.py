"""TorchGeo tasks for spectral pretraining and fine-tuning."""
