# syntax=docker/dockerfile:1
# The Arrears application image: one image, two uses (see docker-compose.yml):
#   docker run IMAGE            -> `arrears worker` (the default CMD)
#   docker run IMAGE migrate    -> `arrears migrate`
# Configuration comes from the environment only (TEMPORAL_ADDRESS, DATABASE_URL, ARREARS_*);
# see arrears/settings.py.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the project and its dependencies into a self-contained venv ----------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# .dockerignore keeps .venv, .arrears, caches and .git out of the context.
COPY . .
RUN pip install .

# --- runtime: the venv only, run as an unprivileged user ---------------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 arrears \
 && useradd --system --uid 10001 --gid arrears --create-home --home-dir /home/arrears \
        --shell /usr/sbin/nologin arrears
COPY --from=build /opt/venv /opt/venv
USER arrears
WORKDIR /home/arrears
ENTRYPOINT ["arrears"]
CMD ["worker"]
