FROM python:3.12-slim
RUN useradd --create-home --uid 1000 app
USER app
RUN --mount=type=cache,target=/root/.cache/pip pip install --user docopt==0.6.2
