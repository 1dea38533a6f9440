# syntax=docker/dockerfile:1
# The `paydown serve` container image (SPEC §7): a static musl binary on
# Alpine (a shell and busybox wget for the HEALTHCHECK, about 8 MB), run as
# a non-root user (65532), with its SQLite file in /data.
#
# Two ways to get the binary (BIN_STAGE):
#   prebuilt (release.yml): the release's musl binaries, copied from
#     dist/linux-<arch>/paydown in the build context; nothing is compiled and
#     nothing runs under emulation, so the multi-arch build takes seconds.
#   source (the default, `docker build .`): compiled here from the checkout,
#     for a local image or an unreleased commit. This is a fallback: the
#     Action never builds this image (docs/action.md).
ARG BIN_STAGE=source

FROM rust:1-alpine AS source
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin paydown && cp target/release/paydown /paydown

FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/paydown /paydown

FROM ${BIN_STAGE} AS bin

# The data directory, owned by the runtime user; prepared on the build
# platform so a multi-arch build runs nothing under emulation.
FROM --platform=$BUILDPLATFORM alpine:3.22 AS fs
RUN mkdir -p /data && chown 65532:65532 /data

FROM alpine:3.22
COPY --from=fs /data /data
COPY --from=bin --chmod=0755 /paydown /usr/local/bin/paydown
USER 65532:65532
WORKDIR /data
# The default database, sqlite://paydown.sqlite, is then /data/paydown.sqlite:
# mount a volume there to keep it.
ENV PAYDOWN_LISTEN=0.0.0.0:3000
VOLUME /data
EXPOSE 3000
# /healthz on the port PAYDOWN_LISTEN names.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD wget -q -O /dev/null "http://127.0.0.1:${PAYDOWN_LISTEN##*:}/healthz" || exit 1
ENTRYPOINT ["/usr/local/bin/paydown"]
CMD ["serve"]
