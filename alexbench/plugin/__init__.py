"""The plugin side of the host: the hooks and their contracts (hookspecs), the typed host over
pluggy (host), name registries with lazy entries (registry), parameter checking (params) and
what is recorded when a plugin breaks (faults).
"""
