"""The ledger against the database (tools/drill/reconcile.py) on made-up ledgers and rows: what
counts as an acknowledged write lost, a duplicate, and a failed write applied anyway."""

from drill.ledger import Record
from drill.reconcile import Found, reconcile


def write(kind: str, marker: str, status: int = 201, ack: str = "", attempt: int = 1) -> Record:
    return Record(kind, 1.0, 1.1, status, "" if status else "RemoteDisconnected", marker, ack,
                  attempt)  # fmt: skip


def test_every_acknowledged_write_found_once_is_neither_lost_nor_duplicated() -> None:
    records = [
        write("create_article", "drill-r-a-1", ack="drill-r-a-1"),
        write("comment", "drill-r-c-2", ack="17"),
        write("favorite", "drill-r-u1 drill-r-a-1", 200, ack="drill-r-u1 drill-r-a-1"),
        Record("list", 0.5, 0.6, 200),  # reads are not writes
    ]
    found = Found({"drill-r-a-1": ["drill-r-a-1"]}, {"drill-r-c-2": ["17"]},
                  {"drill-r-u1 drill-r-a-1"})  # fmt: skip
    result = reconcile(records, found)
    assert (result["writes"], result["acknowledged"], result["lost"], result["duplicates"]) == (
        3, 3, 0, 0)  # fmt: skip
    assert result["lost_items"] == []


def test_an_acknowledged_write_missing_from_the_database_is_lost() -> None:
    records = [
        write("create_article", "drill-r-a-1", ack="drill-r-a-1"),
        write("comment", "drill-r-c-2", ack="17"),
        write("favorite", "drill-r-u1 x", 200, ack="drill-r-u1 x"),
    ]
    # The comment's marker is there under another id: not the acknowledged row.
    found = Found({}, {"drill-r-c-2": ["18"]}, set())
    result = reconcile(records, found)
    assert result["lost"] == 3
    assert result["by_kind"]["comment"]["lost"] == 1
    assert result["lost_items"][0] == "comment drill-r-c-2: acknowledged 17, not found"


def test_a_retried_create_applied_twice_is_a_duplicate_not_a_loss() -> None:
    records = [
        write("create_article", "drill-r-a-3", status=0),  # answer lost, but committed
        write("create_article", "drill-r-a-3", ack="drill-r-a-3-x1", attempt=2),
    ]
    found = Found({"drill-r-a-3": ["drill-r-a-3", "drill-r-a-3-x1"]})
    result = reconcile(records, found)
    assert result["acknowledged"] == 1
    assert result["lost"] == 0
    assert result["duplicates"] == 1
    assert result["failed"] == 0
    assert result["duplicate_items"] == [
        "create_article drill-r-a-3: 2 rows ['drill-r-a-3', 'drill-r-a-3-x1']"]  # fmt: skip


def test_a_write_that_failed_everywhere_is_failed_and_may_have_been_applied() -> None:
    records = [
        write("comment", "drill-r-c-4", status=502),
        write("comment", "drill-r-c-4", status=502, attempt=2),
        write("comment", "drill-r-c-5", status=0),
    ]
    found = Found(comments={"drill-r-c-4": ["40"]})
    result = reconcile(records, found)
    assert result["writes"] == 2
    assert result["failed"] == 2
    assert result["lost"] == 0
    assert result["applied_without_ack"] == 1
    assert result["applied_without_ack_items"] == [
        "comment drill-r-c-4: 2 failed attempt(s), found ['40']"]  # fmt: skip


def test_findings_are_listed_up_to_the_sample_but_all_counted() -> None:
    records = [write("create_article", f"drill-r-a-{i}", ack=f"s{i}") for i in range(30)]
    result = reconcile(records, Found(), sample=5)
    assert result["lost"] == 30
    assert len(result["lost_items"]) == 5
