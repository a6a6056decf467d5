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
# More threads than a worker's waiting syncs: a sync waiting for its bulk slot holds its thread,
# and a desk's live scan needs one free (decision 0040: with 4 threads the gate scans ran a third
# cheaper, but live desk scans waited behind the syncs).
threads = int(os.environ.get("WEB_THREADS", "24"))
keepalive = 60
backlog = 256


def post_fork(server, worker):
    # A thread back from the database waits for the GIL up to the switch interval (5 ms) while a
    # bulk ingest computes: a live scan makes a dozen round trips, so wait less.
    sys.setswitchinterval(0.0005)
