# The PAKET Bot image used by deploy/compose.yaml. Build: docker build -t paket-bot .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY locales ./locales
RUN pip install . \
    && useradd --system --home-dir /var/lib/paket-bot --create-home --shell /usr/sbin/nologin paket

# A SQLite file, if one is used without PostgreSQL, lives here; the compose file uses PostgreSQL.
WORKDIR /var/lib/paket-bot
USER paket
EXPOSE 8080
CMD ["paket-bot", "run"]
