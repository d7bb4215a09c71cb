# The archive kept by removing docker-clean from the image, as Docker's documentation
# does: every later apt-get of the image keeps its downloads too.
FROM debian:bookworm
RUN rm -f /etc/apt/apt.conf.d/docker-clean
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
 && apt-get install -y --no-install-recommends jq
CMD ["jq", "--version"]
