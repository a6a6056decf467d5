"""gunicorn settings for `make run` (scripts/serve.sh) and the benchmark (bench/testing.py): the
server the figures are measured on is the one we ship. Environment: WEB_WORKERS, WEB_THREADS.

Threads (gthread) rather than sync workers: phones keep their connections alive, which a sync
worker would hold one to a process; gthread keeps idle ones in its poller and hands each request to
a free thread. The sampling desks' live scans must not queue behind other desks' offline syncs:
those take one of EPIGRID_INGEST_BULK_SLOTS per process (testing.api), fewer than the threads."""

import os
import sys

worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "3"))
# Few threads: a worker answers one request at a time anyway (the GIL), and each thread holds a
# database connection. With 24 threads a burst of gate scans had 72 requests and connections
# contending for two cores: each scan cost half again as much CPU and the server answered fewer of
# them the more arrived (decision 0040). Waiting connections cost no thread: gthread keeps them in
# its poller, and a request waits in the queue, not on a core.
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 60
backlog = 256


def post_fork(server, worker):
    # A thread back from the database waits for the GIL up to the switch interval (5 ms) while a
    # bulk ingest computes: a live scan makes a dozen round trips, so wait less.
    sys.setswitchinterval(0.0005)
