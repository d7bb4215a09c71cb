# Cache mounts on apt's archive and lists, and nothing else: Debian's docker-clean still
# deletes every downloaded .deb after the install, so the archive mount keeps nothing.
# The lists are a mount, so the RUN no longer removes them.
FROM debian:bookworm
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
 && apt-get install -y --no-install-recommends jq
CMD ["jq", "--version"]
