"""Reading data and knowledge into votewise."""

__all__: list[str] = []
