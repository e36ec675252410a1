"""Plugins that get things wrong on purpose; each module is one plugin (see pyproject.toml)."""
