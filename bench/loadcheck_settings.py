"""The site's settings for `make loadcheck` (bench/nothing_lost.py), unchanged but for one: the
mail sender tries deferred mail again every EMAIL_RETRY_SECONDS of the environment (the load check
sets 2), so that mail deferred while its mail server was down is retried within the run.

smpinfo/settings.py fixes EMAIL_RETRY_SECONDS at 600; when it reads the variable itself, this
module changes nothing.
"""

import os

from smpinfo import settings as _site
from smpinfo.settings import *  # noqa: F403 (the site's own settings)

EMAIL_RETRY_SECONDS = int(os.environ.get("EMAIL_RETRY_SECONDS") or _site.EMAIL_RETRY_SECONDS)
