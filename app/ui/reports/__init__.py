"""The Reports window and its charts."""
