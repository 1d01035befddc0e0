"""The maintained counters of the bulk rows. They are counted while the rows are drawn, so that
every row is written once, already carrying its final counts (updating a million rows afterwards
costs more than the whole load); ``check_counters`` recomputes them from the rows."""

from array import array

from conduit.demo.bulk.plan import BulkPlan


def _zeros(size: int) -> array[int]:
    """``size + 1`` zeroed integers, compactly: index 0 is unused, so an id indexes its count."""
    return array("l", bytes(8 * (size + 1)))


class BulkCounters:
    def __init__(self, plan: BulkPlan) -> None:
        self.user_articles = _zeros(plan.users)
        self.user_favorites = _zeros(plan.users)
        self.user_followers = _zeros(plan.users)
        self.user_following = _zeros(plan.users)
        self.article_favorites = _zeros(plan.articles)
        self.tag_articles = _zeros(plan.tags)
