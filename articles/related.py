"""Related articles, ranked when articles change and stored with each article."""


def connect_signals():
    """Connected by ArticlesConfig.ready()."""
