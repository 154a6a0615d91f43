"""Dialogs and overlays opened from the main window."""
