# syntax=docker/dockerfile:1
# docklint in an image:
#   docker build -t docklint .
#   docker run --rm -v "$PWD:/src:ro" docklint check .
# The build keeps cargo's registry and target directory in cache mounts: a rebuild after
# a source change downloads nothing and recompiles only docklint. The binary is copied out
# of the target mount, which is not part of the image.

FROM rust:1.88-slim-bookworm AS build
WORKDIR /build
COPY Cargo.toml Cargo.lock lint.toml ./
COPY src ./src
COPY lints ./lints
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git/db,sharing=locked \
    --mount=type=cache,target=/build/target,sharing=locked \
    cargo build --locked --release --bin docklint \
    && install -m 0755 target/release/docklint /usr/local/bin/docklint

# glibc and nothing else; runs as the image's unprivileged `nonroot` user (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/docklint /usr/local/bin/docklint
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/docklint"]
CMD ["check", "."]
