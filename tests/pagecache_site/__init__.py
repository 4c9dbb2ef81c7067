"""A tiny site for the page cache's own tests: views that know nothing of articles or comments."""
