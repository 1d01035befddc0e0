"""WAL positions for the replica lag (ADR 0017): the primary's insert position against a replay
position. The lag itself is measured on a real replica in tests/replicas."""

import pytest

from conduit.platform.db import replicas

BLOCK, SEGMENT = 8192, 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("insert", "boundary"),
    [
        (SEGMENT * 3 + 40, SEGMENT * 3),  # just past a segment's long page header
        (BLOCK * 5 + 24, BLOCK * 5),  # just past a page's short header
        (BLOCK * 5 + 48, BLOCK * 5 + 48),  # inside a page: as is
    ],
)
def test_the_insert_position_maps_to_the_end_of_the_last_record(insert, boundary):
    assert replicas.record_boundary(insert, BLOCK, SEGMENT) == boundary
