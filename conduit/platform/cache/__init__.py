"""The cache: a backend failure is a miss (safe), one load per key per process (flight), the
backends and ``CACHE_URL`` parsing (backends). Modules are imported by name: ``backends`` is read
by the settings before Django is configured, so this package imports nothing itself."""
