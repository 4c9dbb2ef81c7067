"""The site's settings for app servers that tests start on an EmbeddedSite (tests/servers.py):
static files are collected into the site's scratch folder instead of the working tree."""

import os

from smpinfo.settings import *  # noqa: F403 (the site's own settings, unchanged but for STATIC_ROOT)

STATIC_ROOT = os.environ["APP_SERVER_STATIC_ROOT"]
