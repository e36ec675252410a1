"""Configuration as data: task files (tasks), variants (variants), studies (studies), command-line
parameter overrides (overrides), TOML reading with file:field errors (tomlfile) and ``{name}``
placeholders (placeholders).
"""
