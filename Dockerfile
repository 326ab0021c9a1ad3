FROM python:3.11-slim

# Production mode: give COCREATE_SECRET_KEY and COCREATE_BASE_URL at `docker run` (the app refuses to
# start without them) and COCREATE_DATABASE_URL for PostgreSQL.

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    COCREATE_ENV=production \
    COCREATE_DATA_DIR=/data

RUN useradd --create-home --uid 10001 cocreate \
    && mkdir -p /data && chown cocreate:cocreate /data

WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir app && touch app/__init__.py && pip install . && pip uninstall -y cocreate
COPY . .
RUN pip install --no-deps -e . && chown -R cocreate:cocreate /app

USER cocreate
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["sh", "-c", "cocreate migrate && exec cocreate serve --host 0.0.0.0 --port 8000"]
