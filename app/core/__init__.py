"""Infrastructure every domain builds on: settings, the database and its unit of work, security,
languages, templates, forms, rate limits, live events. It imports no domain."""
