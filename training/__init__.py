"""Labels, point-in-time training sets, LightGBM models, evaluation and the MLflow registry."""
