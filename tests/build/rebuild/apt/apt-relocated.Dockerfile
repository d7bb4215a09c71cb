# The archive relocated as in archives-relocated.Dockerfile, with apt instead of apt-get:
# apt deletes the packages it downloaded once they are installed
# (Binary::apt::APT::Keep-Downloaded-Packages is false), wherever the archive is.
FROM debian:bookworm
RUN --mount=type=cache,target=/var/cache/apt-keep,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt update \
 && apt -o Dir::Cache::Archives=/var/cache/apt-keep/ install -y --no-install-recommends jq
CMD ["jq", "--version"]
