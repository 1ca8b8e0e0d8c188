"""gunicorn reads this file from the working directory: access-log lines go through a
logger that removes secret URLs (calendar feed, one-click links, invitations, reset keys)."""

logger_class = "referralcrm.logfilters.RedactingGunicornLogger"


def post_worker_init(worker):
    """Once a worker has loaded the app: move everything alive (Django, the URL conf, the
    templates, ~100 MB of long-lived objects) out of the garbage collector's sight, so a full
    collection during a request scans only what requests made (gc.freeze), and collect the
    young generation less often. Without this a full collection paused a request 100 to 300 ms
    every few hundred requests (p99 of the dashboard and the API list in make bench)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(7000, 20, 20)
