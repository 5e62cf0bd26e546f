"""The foot stage: contact evidence from the camera pixels around each foot (see stage.py)."""
