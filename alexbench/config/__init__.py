"""Configuration as data: task files (tasks), variants (variants), studies (studies), command-line
parameter overrides (overrides), which values are seeds (seeds), TOML reading with file:field
errors (tomlfile) and ``{name}`` placeholders (placeholders).
"""
