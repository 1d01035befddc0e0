"""The database plumbing: the replica router and health, read-your-writes, compiled list queries."""
