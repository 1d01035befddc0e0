"""``Recent`` (platform/cache/recent.py): the bounded memory of what this process read last,
which the article lists use to guess their second read's keys (tests/cache/test_read_ahead.py)."""

import threading

from conduit.platform.cache.recent import Recent, forget_all


def test_keeps_the_last_value_of_each_key():
    recent: Recent[str, int] = Recent(3)
    recent.put("a", 1)
    recent.put("a", 2)
    assert recent.get("a") == 2
    assert recent.get("b") is None


def test_the_least_recently_put_go_first():
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 3)  # put again: now the most recent
    recent.put("c", 4)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (3, None, 4)
    assert len(recent) == 2


def test_forget_all_drops_every_guess():
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    forget_all()
    assert recent.get("a") is None


def test_threads_putting_at_once_stay_within_the_bound():
    recent: Recent[int, int] = Recent(50)

    def put_many(start: int) -> None:
        for i in range(start, start + 5000):
            recent.put(i % 400, i)

    threads = [threading.Thread(target=put_many, args=(n * 5000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recent) <= 50
