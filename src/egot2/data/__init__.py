"""Ego4D data: annotation records, datasets and loaders."""
