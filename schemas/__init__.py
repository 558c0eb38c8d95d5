"""om-bridge: schemas."""
