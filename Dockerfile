# syntax=docker/dockerfile:1
# The campaign site: one image for web, workers and beat (bin/entrypoint chooses by argument).
#
#   docker build -t campaign-site .
#   docker run --env-file .env campaign-site migrate
#   docker run --env-file .env -p 8000:8000 campaign-site web
#   docker run --env-file .env campaign-site worker mail
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- Build: wheels for the pinned requirements, compiled messages and collected static files ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# gettext's msgfmt compiles the .po catalogues; only this stage needs it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /wheels/requirements.txt
RUN pip wheel --wheel-dir /wheels -r /wheels/requirements.txt \
    && pip install --no-index --find-links /wheels -r /wheels/requirements.txt
WORKDIR /app
COPY . .
# Settings refuse to load without SECRET_KEY when DEBUG is off; this throwaway one exists only in
# this step. DEBUG off makes collectstatic write hashed, compressed files and their manifest.
RUN export DEBUG=0 SECRET_KEY=build-step-only CAMPAIGN_VAR_DIR=/tmp/build-var \
    && python manage.py compilemessages \
    && python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var

# --- Runtime: the slim image, the wheels installed, the app, no compiler, no gettext -----------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    CAMPAIGN_VAR_DIR=/app/var PORT=8000
RUN python -m venv /opt/venv
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels -r /wheels/requirements.txt
RUN groupadd --system --gid 10001 campaign \
    && useradd --system --uid 10001 --gid campaign --home-dir /app --shell /usr/sbin/nologin campaign
WORKDIR /app
COPY --from=build /app /app
# The app is read-only to its user; only var/ (the beat schedule, the embedded broker) is written.
RUN mkdir -p /app/var && chown campaign:campaign /app/var
USER campaign
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/app/bin/entrypoint", "healthcheck"]
ENTRYPOINT ["/app/bin/entrypoint"]
CMD ["web"]
