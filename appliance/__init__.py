"""Treadmill-side running-retraining appliance."""

__version__ = "0.1.0"
