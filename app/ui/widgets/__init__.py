"""Reusable panes and controls of the main window."""
