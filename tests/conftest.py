"""Shared fixtures: one user per role, a team, a pipeline, and `api(user)` for JSON calls."""

import json

import pytest
from django.test import Client

from crm.access.models import ApiToken
from tests.factories import PipelineFactory, TeamFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def _transactional_tests_leave_the_migrated_data():
    """A transactional test ends with a flush that empties every table, the migrations' rows (built-in
    roles) included; Django only restores them at the start of the next serialized test, so any plain
    test run after it (random order) found no roles. Restore them right after the flush instead, and
    clear the search index (not a Django model, so the flush leaves its rows) and the type numbers this
    process remembered, so no test depends on which test ran before it. The flush runs under
    crm.audit.reads.maintenance(): the append-only read audit lets only a marked flush empty it."""
    from django.db import connections
    from django.test import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown

    def teardown(self):
        from crm.audit import reads

        with reads.maintenance():  # the read audit's triggers refuse a DELETE/TRUNCATE otherwise
            flush(self)
        from crm.search import registry
        from crm.search.backends import backend

        for name in self._databases_names(include_mirrors=False):
            contents = getattr(connections[name], "_test_serialized_contents", None)
            if self.serialized_rollback and contents:
                connections[name].creation.deserialize_db_from_string(contents)
        backend().clear()
        # The flush emptied the kinds table too: numbers this process remembered would be given again to
        # other types, whose index rows would then overwrite each other (crm/search/registry.py code_of).
        registry._CODES.clear()

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = flush


@pytest.fixture(scope="session")
def redis_url():
    """The URL of a Redis database no other test run uses at the same time (tests/redisdb.py).
    Requested only by tests that need Redis, so a SQLite-only run never touches it."""
    from tests.redisdb import Claimed

    claimed = Claimed()
    yield claimed.url
    claimed.release()


@pytest.fixture(autouse=True)
def _fresh_search_kinds():
    """The search type numbers a process remembers (crm/search/registry.py code_of) are remembered on
    commit; a test that runs its on-commit callbacks (captureOnCommitCallbacks(execute=True)) inside its
    rolled-back transaction would leave numbers the kinds table no longer holds, which the table then
    gives to other types: their index rows would overwrite each other in later tests."""
    from crm.search import registry

    registry._CODES.clear()
    yield
    registry._CODES.clear()


@pytest.fixture(autouse=True)
def _fresh_record_types(settings):
    """Custom object types are kept per process (crm/objects/registry.py): a rolled-back test's types
    must not reach the next test, and no timed re-check may fall inside a block whose queries a test
    counts (definition writes still rebuild at once, as in production)."""
    from crm.core import recordtypes

    settings.RECORD_TYPES_RECHECK_SECONDS = 3600
    recordtypes.run_time_types_changed()
    yield
    recordtypes.run_time_types_changed()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(db):
    return TeamFactory(name="East")


@pytest.fixture
def manager(team):
    user = UserFactory(username="manager", role="sales-manager", role__team=team)
    team.manager = user
    team.save()
    return user


@pytest.fixture
def rep_a(team):
    return UserFactory(username="rep_a", role="sales-rep", role__team=team)


@pytest.fixture
def rep_b(db):
    return UserFactory(username="rep_b", role="sales-rep")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="boss", role="admin")


@pytest.fixture
def boss(admin_user):
    """An admin, by the name the custom-object tests use."""
    return admin_user


@pytest.fixture
def readonly(db):
    return UserFactory(username="viewer", role="read-only")


@pytest.fixture
def support(db):
    return UserFactory(username="agent", role="support-agent")


@pytest.fixture
def marketer(db):
    return UserFactory(username="marketer", role="marketer")


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Sales", is_default=True)


class Api:
    """JSON calls to /api/v1 as one user, with a real bearer token."""

    def __init__(self, user):
        self.client = Client()
        self.headers = {}
        if user is not None:
            _, raw = ApiToken.issue(user)
            self.headers["Authorization"] = f"Bearer {raw}"

    def _call(self, method, path, data=None, headers=None, raw=None):
        body = raw if raw is not None else (json.dumps(data) if data is not None else None)
        kwargs = {"content_type": "application/json"} if body is not None else {}
        response = getattr(self.client, method)(
            f"/api/v1{path}", data=body, headers={**self.headers, **(headers or {})}, **kwargs
        )
        return response

    def get(self, path, params=None, **kw):
        return self.client.get(f"/api/v1{path}", params or {}, headers={**self.headers, **kw.get("headers", {})})

    def post(self, path, data=None, **kw):
        return self._call("post", path, data, **kw)

    def patch(self, path, data=None, **kw):
        return self._call("patch", path, data, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, None, **kw)


@pytest.fixture
def api(db):
    return Api


@pytest.fixture
def foreign_currencies(db):
    """EUR, GBP, NOK and SEK enabled besides the organization's currency (the migration enables only
    that one in a fresh database): deals may then use them. Set directly, as factories do."""
    from crm.money.models import Currency

    Currency.objects.filter(code__in=["EUR", "GBP", "NOK", "SEK"]).update(enabled=True)


@pytest.fixture
def web(db):
    """web(user) -> a Django test client signed in as that user (None: signed out). CSRF is covered by the
    auth and browser tests; here it would only add token plumbing to every POST."""

    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
