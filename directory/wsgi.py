import gc
import itertools
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
# A web request's queries run 1.5 seconds at most (the server cancels them), the request
# itself 1.8: past that the database is taken to be overloaded or hung, and the visitor
# has a 503 page within two seconds rather than a wait (directory/errors.py).
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "1500")
os.environ.setdefault("REQUEST_TIMEOUT", "1.8")
application = get_wsgi_application()

# Garbage collection, set for a process serving requests through this application
# (tests and manage.py keep Python's own). Everything loaded so far lives as long as the
# process: frozen, no later collection walks it again. A request leaves thousands of
# objects in reference cycles; the older generations, where they end up, are collected
# once its response has been sent, not in the middle of a later request, which left to
# Python's thresholds it held up now and then (docs/performance.md). The oldest is
# collected every FULL_COLLECTION_EVERY requests.
gc.freeze()
gc.set_threshold(10_000, 100, 1_000_000)
FULL_COLLECTION_EVERY = 1_000
_finished = itertools.count(1)


def collect_between_requests(**kwargs):
    gc.collect(2 if next(_finished) % FULL_COLLECTION_EVERY == 0 else 1)


request_finished.connect(collect_between_requests, dispatch_uid="collect_between_requests")
