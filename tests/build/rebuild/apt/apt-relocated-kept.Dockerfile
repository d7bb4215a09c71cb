# The archive relocated, with apt told to keep what it downloads.
FROM debian:bookworm
RUN --mount=type=cache,target=/var/cache/apt-keep,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt update \
 && apt -o Dir::Cache::Archives=/var/cache/apt-keep/ -o APT::Keep-Downloaded-Packages=true \
      install -y --no-install-recommends jq
CMD ["jq", "--version"]
