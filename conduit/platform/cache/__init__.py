"""The cache: a backend failure is a miss (safe), one load per key per process (flight), the
Redis backend and ``CACHE_URL`` parsing. Modules are imported by name: ``url`` is read by the
settings before Django is configured, so this package imports nothing itself."""
