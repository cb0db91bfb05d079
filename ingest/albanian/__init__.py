"""Albanian."""
