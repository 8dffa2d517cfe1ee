"""gunicorn reads this file from the working directory (`make run`, scripts/bench_scan.py): settings stay on the
command line; this only adds the worker's warm-up, then freezes what the warm worker holds out of the cyclic
collector's way (app/warmup.py, issue 18)."""


def post_worker_init(worker):
    """Warm the worker's app (a few pages, one trace, one recall case) before it accepts its first request."""
    from app.warmup import freeze_heap, warm_up

    done = warm_up(worker.wsgi)
    frozen = freeze_heap()
    worker.log.info("warm-up: %d pages, trace %s, recall %s in %.2f s%s; %d objects frozen", done["pages"],
                    done["trace"], done["recall"], done["seconds"],
                    f" (stopped: {done['stopped']})" if done["stopped"] else "", frozen)
