FROM python:3.12-slim
RUN useradd -r -m app
USER app
RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000,gid=1000 pip install --user docopt==0.6.2
