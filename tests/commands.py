"""Running the project's management commands from tests: in this process, or in a new one."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parent.parent


def call(*args):
    """Run a command in this process (this test's database and settings); return what it printed."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def manage(*args, **env):
    """Run `manage.py` in a new process with only `env` as the site's settings (DJANGO_* cleared).

    Settings are read once per process: a test of settings must start a new one.
    """
    clean_env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
