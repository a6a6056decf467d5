"""Shared mechanisms (style.md): no models of its own and no imports from epigrid's apps."""
