"""Who holds the writers' lock, as a save that waits says it: only this store's writers.

Two stores on one server each have their own writers' lock (an advisory lock, which is the
database's own); a save in one must not name a long write in the other as what it waits for.
"""

from __future__ import annotations

import pytest

from sefton_qa.store import open_store
from sefton_qa.store.postgres import lock_holder

from pg_server import another_users_long_write

pytestmark = pytest.mark.server_only


def test_the_lock_holder_named_is_this_stores_and_never_another_stores(pg_server,
                                                                      pg_empty_template):
    ours = pg_server.create(template=pg_empty_template)
    theirs = pg_server.create(template=pg_empty_template)
    store = open_store(ours)
    try:
        with another_users_long_write(theirs, "importing audits into another store"):
            assert lock_holder(store.conn) is None
        with another_users_long_write(ours, "importing audits for Jo Tester"):
            assert lock_holder(store.conn).startswith("importing audits for Jo Tester, by ")
    finally:
        store.close()
        pg_server.drop(ours)
        pg_server.drop(theirs)
