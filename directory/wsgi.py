import gc
import itertools
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
application = get_wsgi_application()

# Garbage collection, set for a process serving requests through this application
# (tests and manage.py keep Python's own).
#
# Everything loaded so far (Django, the apps, their modules) lives as long as the process.
# Freezing it keeps every later collection from walking it again.
gc.freeze()

# A request leaves thousands of objects in reference cycles (a prefetched row points
# back at its service, a template context at its parent). Young objects are collected
# as usual, every 10,000 allocations. The older generations, where a request's cycles
# end up, are collected once the response has been sent (request_finished comes after
# the server has written the last byte): then they hold one request's garbage, about
# 2.5 ms of work here. Left to Python's thresholds, the same collection ran in the
# middle of a later request and held it up 50-90 ms, about one request in ten.
# A request that allocates a great deal (over a million objects) still collects the
# middle generation as it goes; the oldest is collected every 1,000 requests.
gc.set_threshold(10_000, 100, 1_000_000)
FULL_COLLECTION_EVERY = 1_000
_finished = itertools.count(1)


def collect_between_requests(**kwargs):
    gc.collect(2 if next(_finished) % FULL_COLLECTION_EVERY == 0 else 1)


request_finished.connect(collect_between_requests, dispatch_uid="collect_between_requests")
