"""Leaderboards: stored runs grouped and compared (leaderboard), rendered as Markdown, CSV, JSON,
LaTeX, one HTML page and plots.
"""
