"""Shared pytest configuration for the project's tests."""

# The plugin tests drive pytest in a subprocess; pytester must be declared at the top level.
pytest_plugins = ["pytester"]
