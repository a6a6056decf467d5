"""gunicorn settings for `make run` (scripts/serve.sh) and the benchmark (bench/testing.py): the
server the figures are measured on is the one we ship. Environment: WEB_WORKERS, WEB_THREADS.

Threads (gthread) rather than sync workers: phones keep their connections alive, which a sync
worker would hold one to a process; gthread keeps idle ones in its poller and hands each request to
a free thread. The sampling desks' live scans must not queue behind other desks' offline syncs:
those take one of EPIGRID_INGEST_BULK_SLOTS per process (testing.api), fewer than the threads.
With EPIGRID_WEB_ACTIVE set, at most that many of a process's threads run a request at once
(core.admission, decision 0043; off by default)."""

import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "3"))
# More threads than a worker's waiting syncs: a sync waiting for its bulk slot holds its thread,
# and a desk's live scan needs one free (decision 0040: with 4 threads the gate scans ran a third
# cheaper, but live desk scans waited behind the syncs).
threads = int(os.environ.get("WEB_THREADS", "24"))
keepalive = 60
backlog = 256
# No post_fork switch interval: a 0.5 ms one (to hand the GIL back sooner to scans back from the
# database) cost a gate scan a quarter of its CPU in thread switches and helped the desks no more
# (decision 0041).
