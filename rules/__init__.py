"""Ready-made labeling-function builders, rule files and text preprocessing."""

__all__: list[str] = []
