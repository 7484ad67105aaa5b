"""Code shared by the training pipeline and the prediction service."""
