"""Small helpers shared across egot2 (atomic file writes, parameter counting)."""
