"""A Redis database of this test session's own, so suites running at once on one machine (other
worktrees, CI jobs) never share a queue: each claims a free database number (1..15) with a key on
database 0 (SET NX with an expiry, so a session that died frees its claim after CLAIM_SECONDS),
empties it, and releases it at the end. CRM_TEST_REDIS_URL names a database to use instead."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

OVERRIDE = "CRM_TEST_REDIS_URL"
CLAIM_SECONDS = 7200  # longer than any suite runs
DATABASES = range(1, 16)  # Redis has 16 by default; 0 holds the claims
# Delete the claim only while it is still ours (it may have expired and been taken by another run).
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _url(db: int) -> str:
    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


class Claimed:
    """One claimed database: ``url`` for the processes, ``release()`` when the session ends."""

    def __init__(self):
        import redis

        self.url, self.key = os.environ.get(OVERRIDE), None
        if self.url:
            return
        self.token = f"{os.getpid()}-{uuid.uuid4().hex}"
        claims = redis.Redis.from_url(_url(0))
        for db in DATABASES:
            if claims.set(f"crm-test-claim:{db}", self.token, nx=True, ex=CLAIM_SECONDS):
                self.url, self.key = _url(db), f"crm-test-claim:{db}"
                redis.Redis.from_url(self.url).flushdb()  # what a run that died left behind
                return
        raise RuntimeError(f"No free Redis database in {DATABASES}: set {OVERRIDE} to one this run may use.")

    def release(self) -> None:
        if self.key is None:  # the override: not ours to empty
            return
        import redis

        redis.Redis.from_url(self.url).flushdb()
        redis.Redis.from_url(_url(0)).eval(RELEASE, 1, self.key, self.token)
