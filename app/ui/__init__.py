"""The Qt desktop interface: main window, dialogs, models, delegates and widgets."""
