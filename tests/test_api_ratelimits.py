"""API rate limits (crm/api/throttling.py): per token, per session user, per IP for anonymous calls and
as a ceiling for everything, a lower limit on heavy endpoints; 429 + Retry-After + the error shape."""

import datetime as dt
import uuid

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import resolve
from freezegun import freeze_time

from crm.access.models import ApiToken
from crm.api.throttling import Rate, client_ip, ip_bucket, parse_rate
from crm.automation.models import WebForm
from crm.core.cache import create_cache_table
from tests.ops.test_burst import _call, stack_db  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
LOTS = "100000/min"
# 10 s into a minute: a fixed window of one minute has 50 s left.
START = dt.datetime(2030, 1, 7, 12, 0, 10, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def limits(settings):
    """High limits unless a test lowers one; counters from other tests gone; the clock 10 s into a
    minute and running, so that a test's requests never straddle a window boundary by chance (the
    servers of the gunicorn test have their own clock and a day's window)."""
    settings.API_RATE_LIMIT = settings.API_RATE_LIMIT_HEAVY = LOTS
    settings.API_RATE_LIMIT_ANON = settings.API_RATE_LIMIT_IP = LOTS
    settings.TRUSTED_PROXY_COUNT = 0
    cache.clear()
    resolve("/api/v1/me")  # pydantic cannot build the API's schemas while datetime is faked
    with freeze_time(START, tick=True):
        yield settings
    cache.clear()


@pytest.fixture
def frozen():
    """freeze_time, once the API is built: pydantic cannot build schemas while datetime is faked."""
    resolve("/api/v1/me")
    return freeze_time


def token_client(user, ip="198.51.100.7"):
    _, raw = ApiToken.issue(user)
    return Client(headers={"Authorization": f"Bearer {raw}"}, REMOTE_ADDR=ip)


def assert_limited(response, retry_after=None):
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "rate_limited" and "try again" in error["message"]
    wait = int(response["Retry-After"])  # whole seconds
    assert wait >= 1
    if retry_after is not None:
        assert wait == retry_after


def statuses(client, n, path="/api/v1/me", **kw):
    return [client.get(path, **kw).status_code for _ in range(n)]


def test_a_token_has_its_own_bucket_another_token_of_the_same_user_is_not_affected(limits, rep_a, frozen):
    limits.API_RATE_LIMIT = "3/min"
    first, second = token_client(rep_a), token_client(rep_a)
    with frozen(START):
        assert statuses(first, 3) == [200, 200, 200]
        assert_limited(first.get("/api/v1/me"), retry_after=50)
        assert statuses(second, 3) == [200, 200, 200]  # same user, same IP: its own count
        assert_limited(second.get("/api/v1/me"))


def test_the_window_resets(limits, rep_a, frozen):
    limits.API_RATE_LIMIT = "2/min"
    client = token_client(rep_a)
    with frozen(START) as clock:
        assert statuses(client, 3) == [200, 200, 429]
        clock.tick(49)
        assert_limited(client.get("/api/v1/me"), retry_after=1)
        clock.tick(1)  # 12:01:00, a new window
        assert statuses(client, 3) == [200, 200, 429]


def test_session_calls_count_per_user_apart_from_the_users_tokens(limits, rep_a, rep_b):
    limits.API_RATE_LIMIT = "2/min"
    browser = Client(REMOTE_ADDR="198.51.100.7")
    browser.force_login(rep_a)
    assert statuses(browser, 3) == [200, 200, 429]
    other_browser = Client(REMOTE_ADDR="198.51.100.7")
    other_browser.force_login(rep_a)
    assert other_browser.get("/api/v1/me").status_code == 429  # the same user in another session
    assert statuses(token_client(rep_a), 2) == [200, 200]
    third = Client(REMOTE_ADDR="198.51.100.7")
    third.force_login(rep_b)
    assert statuses(third, 2) == [200, 200]


def test_heavy_endpoints_have_the_lower_limit_on_top_of_the_general_one(limits, admin_user):
    limits.API_RATE_LIMIT = "20/min"
    limits.API_RATE_LIMIT_HEAVY = "2/min"
    client = token_client(admin_user)
    assert [client.get("/api/v1/search", {"q": "ada"}).status_code for _ in range(2)] == [200, 200]
    assert_limited(client.get("/api/v1/search", {"q": "ada"}))
    assert client.get("/api/v1/export/contacts").status_code == 429  # one heavy bucket per caller
    bulk = client.post("/api/v1/companies/bulk", {"items": [{"name": "A"}]}, content_type="application/json")
    assert_limited(bulk)
    assert client.get("/api/v1/companies").status_code == 200  # ordinary calls go on
    other = token_client(admin_user)
    assert other.get("/api/v1/export/contacts").status_code == 200


def test_heavy_calls_also_count_in_the_general_bucket(limits, admin_user):
    limits.API_RATE_LIMIT = "3/min"
    limits.API_RATE_LIMIT_HEAVY = "10/min"
    client = token_client(admin_user)
    assert [client.get("/api/v1/search", {"q": "x"}).status_code for _ in range(3)] == [200, 200, 200]
    assert_limited(client.get("/api/v1/me"))


@pytest.fixture
def web_form(team):
    return WebForm.objects.create(slug="contact-us", name="Contact us", assign_team=team, lead_source="website")


def test_public_calls_are_limited_per_ip(limits, web_form):
    limits.API_RATE_LIMIT_ANON = "2/min"
    url = "/api/v1/automation/forms/contact-us/embed"
    visitor = Client(REMOTE_ADDR="203.0.113.5")
    assert statuses(visitor, 2, url) == [200, 200]
    assert_limited(visitor.get(url))
    assert Client(REMOTE_ADDR="203.0.113.6").get(url).status_code == 200


def test_failed_sign_ins_count_as_anonymous_calls_of_their_ip(limits, rep_a):
    limits.API_RATE_LIMIT_ANON = "2/min"
    guesser = Client(headers={"Authorization": "Bearer crm_guess"}, REMOTE_ADDR="203.0.113.5")
    assert statuses(guesser, 2) == [401, 401]
    assert_limited(guesser.get("/api/v1/me"))
    # No credentials at all: refused before anything runs.
    assert_limited(Client(REMOTE_ADDR="203.0.113.5").get("/api/v1/me"))
    # A valid token from that IP is signed in and counts in its own bucket.
    assert statuses(token_client(rep_a, ip="203.0.113.5"), 3) == [200, 200, 200]
    assert Client(REMOTE_ADDR="203.0.113.9").get("/api/v1/me").status_code == 401


def test_every_request_of_an_ip_counts_against_its_ceiling(limits, rep_a):
    limits.API_RATE_LIMIT_IP = "4/min"
    ip = "203.0.113.5"
    flood = [Client(headers={"Authorization": f"Bearer crm_bad{i}"}, REMOTE_ADDR=ip) for i in range(2)]
    assert [c.get("/api/v1/me").status_code for c in flood] == [401, 401]
    assert Client(REMOTE_ADDR=ip).get("/api/v1/no-such-endpoint").status_code == 404
    good = token_client(rep_a, ip=ip)
    assert good.get("/api/v1/me").status_code == 200
    assert_limited(good.get("/api/v1/me"))  # even a valid token, over the IP's ceiling
    assert_limited(Client(REMOTE_ADDR=ip).get("/api/v1/no-such-endpoint"))
    assert token_client(rep_a, ip="203.0.113.6").get("/api/v1/me").status_code == 200


def test_x_forwarded_for_is_ignored_without_trusted_proxies(limits):
    limits.API_RATE_LIMIT_ANON = "2/min"
    client = Client(REMOTE_ADDR="10.0.0.2")
    codes = [client.get("/api/v1/me", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(3)]
    assert codes == [401, 401, 429]  # a forged address per request buys no fresh bucket


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(limits):
    limits.API_RATE_LIMIT_ANON = "2/min"
    limits.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")

    def call(xff):
        return proxy.get("/api/v1/me", headers={"X-Forwarded-For": xff}).status_code

    # The client forges entries on the left; the proxy appends the address it saw (192.0.2.1).
    assert [call(f"198.51.100.{i}, 192.0.2.1") for i in range(3)] == [401, 401, 429]
    assert call("192.0.2.2") == 401  # another client behind the same proxy


def test_client_ip_reads_as_many_hops_as_there_are_trusted_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.1, 10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "192.0.2.1"
    settings.TRUSTED_PROXY_COUNT = 5  # fewer entries than proxies: the leftmost
    assert client_ip(request) == "6.6.6.6"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")) == "10.0.0.2"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_an_ipv6_client_is_one_bucket_per_64():
    assert ip_bucket("2001:db8:1:2:aaaa::1") == ip_bucket("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert ip_bucket("2001:db8:1:3::1") != ip_bucket("2001:db8:1:2::1")
    assert ip_bucket("::ffff:192.0.2.1") == ip_bucket("192.0.2.1") == "192.0.2.1"


def test_rates_are_read_as_written_or_refused():
    assert parse_rate("600/min") == Rate(600, 60)
    assert parse_rate("30/m") == parse_rate(" 30 / minute ") == Rate(30, 60)
    assert parse_rate("10/5min") == Rate(10, 300)
    assert parse_rate("1000/hour") == Rate(1000, 3600)
    assert parse_rate("5/s") == Rate(5, 1)
    assert parse_rate("off") is None and parse_rate("0") is None
    for bad in ("600", "600/fortnight", "many/min", "-1/min", "0/min"):
        with pytest.raises(ImproperlyConfigured):
            parse_rate(bad)


def test_a_limit_set_to_off_does_not_limit(limits, rep_a):
    limits.API_RATE_LIMIT = "off"
    limits.API_RATE_LIMIT_IP = "off"
    assert set(statuses(token_client(rep_a), 30)) == {200}


def test_the_database_cache_counts_across_requests(limits, settings, rep_a, frozen):
    """The embedded default: counters in the table `crm migrate` creates (crm/core/cache.py).

    Frozen inside one minute (a real clock may cross a window boundary between the requests), and with the
    settings' room for entries: Django's default of 300 culls a third of the table when rows left by other
    tests' processes fill it, and the counter could go with them."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "crm_cache",
            "OPTIONS": {"MAX_ENTRIES": 100000},
        }
    }
    create_cache_table(sender=None, verbosity=0)  # what post_migrate runs
    limits.API_RATE_LIMIT = "2/min"
    client = token_client(rep_a)
    with frozen(START):
        assert statuses(client, 3) == [200, 200, 429]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM crm_cache WHERE cache_key LIKE %s", ["%api-rate:token:%"])
        assert cursor.fetchone()[0] == 1


def test_the_redis_cache_counts_across_requests(limits, rep_a, redis_url):
    """With TASKS_BACKEND=redis. Its own key prefix, and no clear(): that would empty the whole Redis
    database this test session shares with the queue tests."""
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    limits.API_RATE_LIMIT = "2/min"
    with override_settings(CACHES={"default": {**redis, "KEY_PREFIX": f"ratelimit-test-{uuid.uuid4()}"}}):
        assert statuses(token_client(rep_a), 3) == [200, 200, 429]


def test_an_unreachable_cache_lets_requests_through_and_says_so(limits, rep_a, caplog):
    closed = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    limits.API_RATE_LIMIT = "1/min"
    with override_settings(CACHES={"default": closed}):
        assert statuses(token_client(rep_a), 2) == [200, 200]
    assert "API rate limit not checked" in caplog.text


def test_every_operation_documents_429_with_retry_after(client):
    doc = client.get("/api/v1/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            limited = op["responses"].get("429")
            assert limited, (method, path)
            assert limited["content"]["application/json"]["schema"] == error
            assert limited["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_two_gunicorn_workers_share_the_counts(stack_db, tmp_path):  # noqa: F811 - the imported fixture
    """The production setup (crm.settings, 2 worker processes): the database cache on SQLite, Redis on
    PostgreSQL. Per-process counters would let up to twice the limit through."""
    from crm.bench.server import Server

    env, token, _ = stack_db
    env = {**env, "DJANGO_SETTINGS_MODULE": "crm.settings", "API_RATE_LIMIT": "6/day"}  # not the tests' cache
    with Server(workers=2, env=env, log=tmp_path / "web.log") as server:
        codes = [_call(server.port, token, "GET", "/api/v1/me")[0] for _ in range(16)]  # a connection each
    assert codes == [200] * 6 + [429] * 10, codes  # a day's window: no reset inside the test
