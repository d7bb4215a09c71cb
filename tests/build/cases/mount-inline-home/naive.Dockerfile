FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip HOME=/tmp pip install docopt==0.6.2
