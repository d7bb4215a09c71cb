FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip export PIP_CACHE_DIR=/var/cache/pip && pip install docopt==0.6.2
