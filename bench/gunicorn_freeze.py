"""gunicorn settings of the benchmark's servers, the ceiling's and the product's alike: a worker freezes what it loaded, as in production."""

from bot.gunicorn_conf import post_worker_init

__all__ = ["post_worker_init"]  # a gunicorn hook, found by its name
