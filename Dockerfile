# One image for web, worker, beat and the one-shot migrate service.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MUDHUB_VAR_DIR=/var/lib/mudhub

RUN apt-get update \
    && apt-get install -y --no-install-recommends libyang2-tools openssl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /app mudhub \
    && mkdir -p /var/lib/mudhub && chown mudhub /var/lib/mudhub

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=mudhub . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v0

USER mudhub
EXPOSE 8000
CMD ["gunicorn", "aggregator.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
