"""The shared cache: rate-limit counts and cached words, shared by every server process.

Two changes to Django's own backends. Counting is atomic on both, so that many clients
at once cannot slip past a limit between reading a count and writing it back. And Redis,
when it cannot be reached, answers as if it were empty and keeps nothing, for a few
seconds before it is tried again: the limits and the cache are lost for that time, never
the search.
"""

import logging
import time

import redis
from django.core.cache.backends import db
from django.core.cache.backends import redis as django_redis
from django.db import connections, router, transaction

logger = logging.getLogger(__name__)


class DatabaseCache(db.DatabaseCache):
    def incr(self, key, delta=1, version=None):
        # Django reads the value and writes it back: here the row is locked between the two.
        made = self.make_and_validate_key(key, version=version)
        using = router.db_for_write(self.cache_model_class)
        table = connections[using].ops.quote_name(self._table)
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE cache_key = %s FOR UPDATE", [made])
            return super().incr(key, delta, version)


class RedisCache(django_redis.RedisCache):
    PAUSE = 5  # seconds without trying Redis after it failed

    def __init__(self, server, params):
        super().__init__(server, params)
        self._paused_until = 0.0

    def _attempt(self, operation, fallback, *args, **kwargs):
        if time.monotonic() < self._paused_until:
            return fallback
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except redis.RedisError as error:
            self._paused_until = time.monotonic() + self.PAUSE
            logger.warning("Redis unreachable, cache off for %ss: %s", self.PAUSE, error)
            return fallback

    def get(self, key, default=None, version=None):
        return self._attempt("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._attempt("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._attempt("has_key", False, key, version)

    def add(self, key, value, timeout=django_redis.DEFAULT_TIMEOUT, version=None):
        return self._attempt("add", False, key, value, timeout, version)

    def set(self, key, value, timeout=django_redis.DEFAULT_TIMEOUT, version=None):
        return self._attempt("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=django_redis.DEFAULT_TIMEOUT, version=None):
        return self._attempt("set_many", list(data), data, timeout, version)

    def touch(self, key, timeout=django_redis.DEFAULT_TIMEOUT, version=None):
        return self._attempt("touch", False, key, timeout, version)

    def incr(self, key, delta=1, version=None):
        # None: the count is unknown (directory.ratelimit lets the request through).
        return self._attempt("incr", None, key, delta, version)

    def delete(self, key, version=None):
        return self._attempt("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._attempt("delete_many", None, keys, version)

    def clear(self):
        return self._attempt("clear", False)
