"""Bulk, deterministic test data at scale: users, skewed follows, articles with Zipf-like tags,
favorites and comments, with every maintained counter consistent (``manage.py seed_bulk``).

The rows never pass through the ORM or the services: at a million articles that would take hours.
They are generated in Python with a seeded RNG and streamed into the tables with PostgreSQL's
``COPY`` (foreign-key triggers off for the session: every id is generated here and consistent), or
with batched ``INSERT`` on SQLite. Counters are computed while generating and written with the
rows, and ``check_counters`` verifies them afterwards.

- ``plan``: the size of a data set, what loading it did, the password and date every row shares
- ``content``: what the rows say (vocabulary, Markdown bodies, tag names)
- ``rows``: drawing the rows from the seeded RNG, and their columns
- ``counters``: the maintained counters, counted while the rows are drawn
- ``writer``: ``COPY`` or batched ``INSERT``, emptying the tables, the sequences
- ``seed``: the load itself, in the order the rows depend on each other
"""
