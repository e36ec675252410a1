"""alexbench: a plugin-based benchmark harness for public-health social-media classification."""

__version__ = "0.1.0"

from alexbench.plugin.hookspecs import hookimpl, hookspec  # noqa: E402

__all__ = ["__version__", "hookimpl", "hookspec"]
