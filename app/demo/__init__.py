"""Loaders of demo data (``seed``) and of data at network scale (``scale``), for development and
benchmarks; above every domain, since they call the domains' services."""

import app.handlers  # noqa: F401 (the loaders call services, whose events must be handled)
