# The archive kept by moving it for this one install to a directory docker-clean does not
# empty (it deletes /var/cache/apt/archives/*.deb); apt makes its partial/ there.
FROM debian:bookworm
RUN --mount=type=cache,target=/var/cache/apt-keep,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
 && apt-get -o Dir::Cache::Archives=/var/cache/apt-keep/ install -y --no-install-recommends jq
CMD ["jq", "--version"]
