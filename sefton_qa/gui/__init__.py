"""The Qt GUI: a thin layer over the services."""
