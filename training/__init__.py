"""Offline training, evaluation and publishing of the denoiser's models."""
