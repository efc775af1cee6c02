"""Pure renderers, the inverse of the parsers: values into each real feed format (for the simulator)."""
