"""gunicorn's settings for `make serve` (docs/deploy.md): gunicorn -c python:directory.gunicorn"""

import multiprocessing
import os

wsgi_app = "directory.wsgi:application"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Searching is CPU work in Python and PostgreSQL: a process per core and one more for
# each, as gunicorn advises, unless WEB_CONCURRENCY says otherwise.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# A request that still runs after this is stuck; the database's own limits end a query at
# two seconds (directory/wsgi.py), so this is only the last resort.
timeout = 30
graceful_timeout = 20
# Workers are replaced now and then, so that no slow growth in memory lasts.
max_requests = 5000
max_requests_jitter = 500
# No access log: it would write every visitor's address and search. Errors go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's control socket (in the user's home) is not needed, and several servers on one
# machine (a benchmark beside the site) would fight over it.
control_socket_disable = True
