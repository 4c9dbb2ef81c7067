"""Old addresses that keep working: a published article's slug change leaves a redirect."""


def connect_signals():
    """Connected by ArticlesConfig.ready()."""
