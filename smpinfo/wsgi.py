"""WSGI entry point, served by gunicorn (see gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smpinfo.settings")

application = get_wsgi_application()

# Loaded once in gunicorn's master (preload_app), before it forks the workers.
from smpinfo.warmup import warm  # noqa: E402 (needs the application's settings loaded)

warm()
