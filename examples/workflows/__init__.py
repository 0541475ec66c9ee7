"""Workflows kept in files: the files, and the classes whose methods their guards name."""
