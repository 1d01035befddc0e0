# The replica fixtures (tests/pg_replica.py) are used only here.
from tests.pg_replica import pg_replica, replica_alias, replica_registered, scratch_primary

__all__ = ["pg_replica", "replica_alias", "replica_registered", "scratch_primary"]
