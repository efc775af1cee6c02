"""Hypervision: crisis and hypervision control-room backend for French local authorities."""

__version__ = "0.1.0"
