"""tests/redisdb.py: two test sessions at once never get the same Redis database."""

import redis

from tests.redisdb import Claimed


def test_two_claims_get_different_databases_and_a_release_frees_one(redis_url, monkeypatch):
    monkeypatch.delenv("CRM_TEST_REDIS_URL", raising=False)
    first, second = Claimed(), Claimed()
    try:
        assert len({redis_url, first.url, second.url}) == 3
        redis.Redis.from_url(first.url).set("left", "over")
        first.release()
        assert redis.Redis.from_url(first.url).dbsize() == 0  # emptied for the next run
        assert redis.Redis.from_url(first.url.rsplit("/", 1)[0] + "/0").get(first.key) is None  # free again
    finally:
        second.release()


def test_the_override_is_used_as_it_is(monkeypatch):
    monkeypatch.setenv("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    claimed = Claimed()
    assert claimed.url == "redis://127.0.0.1:6379/9"
    claimed.release()  # not ours: nothing emptied, nothing claimed
