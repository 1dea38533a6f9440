# The image behind action.yml (and a way to run `paydown serve`).
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin paydown

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/paydown /usr/local/bin/paydown
ENTRYPOINT ["/usr/local/bin/paydown"]
