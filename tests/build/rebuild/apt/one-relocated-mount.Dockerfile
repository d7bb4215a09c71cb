# Archive and lists moved into one cache mount: docker-clean stays, the RUN still removes
# the image's lists, and the RUN holds a single locked mount. apt makes the archive's
# partial/ but not the lists' (their parent must exist), hence the mkdir.
FROM debian:bookworm
RUN --mount=type=cache,target=/var/cache/apt-keep,sharing=locked \
    mkdir -p /var/cache/apt-keep/lists/partial \
 && apt-get -o Dir::State::Lists=/var/cache/apt-keep/lists/ update \
 && apt-get -o Dir::State::Lists=/var/cache/apt-keep/lists/ \
      -o Dir::Cache::Archives=/var/cache/apt-keep/archives/ \
      install -y --no-install-recommends jq \
 && rm -rf /var/lib/apt/lists/*
CMD ["jq", "--version"]
