"""Public reads on read replicas, everything else on the primary.

A request is a public read when it is a GET or HEAD outside the admin
(ReplicaReadsMiddleware). Its queries go to one replica, chosen for the whole request so
that a page's count and its rows come from the same server. Writes, migrations, the
admin, forms that post, management commands, and the tables that must read their own
writes at once (sessions, the database cache, sign-in lockouts, auth) stay on the primary.
"""

import random
import re
from contextvars import ContextVar

import dj_database_url
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PRIMARY = "default"

# Read just after they are written (a session, a lockout count, a cached rate count), or
# part of signing in: a replica's lag would lose or undo them.
PRIMARY_ONLY_APPS = {"sessions", "django_cache", "axes", "admin", "auth", "contenttypes"}

# The replica this request reads from, or None: set only by ReplicaReadsMiddleware.
_request_replica = ContextVar("request_replica", default=None)


def replica_databases(urls_text, primary):
    """DATABASES entries replica_1, replica_2... for DATABASE_REPLICA_URLS (comma
    separated postgres:// URLs), connecting the way `primary` does."""
    replicas = {}
    urls = [url.strip() for url in (urls_text or "").split(",") if url.strip()]
    for number, url in enumerate(urls, start=1):
        try:
            config = dj_database_url.parse(url)
        except ValueError:  # an unknown scheme, a port that is not a number...
            config = {}
        if config.get("ENGINE") != "django.db.backends.postgresql" or not config.get("NAME"):
            raise ImproperlyConfigured(
                f"DATABASE_REPLICA_URLS: {_without_password(url)!r} is not a "
                "postgres://user:password@host:port/name URL."
            )
        primary_options = primary.get("OPTIONS", {})
        config["CONN_MAX_AGE"] = 0  # connections are kept by the pool, as for the primary
        config["CONN_HEALTH_CHECKS"] = primary.get("CONN_HEALTH_CHECKS", False)
        config["OPTIONS"] = {
            **config.get("OPTIONS", {}),
            **{
                name: primary_options[name]
                for name in ("connect_timeout", "pool", "options")
                if name in primary_options
            },
        }
        # Under test, the replica is the test database itself: nothing to create.
        config["TEST"] = {"MIRROR": PRIMARY}
        replicas[f"replica_{number}"] = config
    return replicas


def _without_password(url):
    # Up to the last @: a password may hold an unquoted @ or /.
    return re.sub(r"(://[^/@:]*:).*@", r"\1***@", url)


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        replicas = getattr(settings, "DATABASE_REPLICAS", [])
        public_read = (
            replicas
            and request.method in ("GET", "HEAD")
            and not request.path_info.startswith("/" + settings.ADMIN_URL)
        )
        token = _request_replica.set(random.choice(replicas) if public_read else None)
        try:
            return self.get_response(request)
        finally:
            _request_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        replica = _request_replica.get()
        if replica is None or model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        return replica

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas hold the primary's own rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
