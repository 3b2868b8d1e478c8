# Build stage: compile the release binary.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
# aws-lc-sys (the rcgen backend) compiles C code.
RUN apt-get update && apt-get install -y --no-install-recommends gcc g++ make \
    && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY scenarios ./scenarios
RUN cargo build --release --locked && strip target/release/signsim

# Runtime stage: one small image, one process.
FROM debian:bookworm-slim
# The system roots, so that webhooks to public https receivers are trusted.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/signsim /usr/local/bin/signsim
# Inside a container the simulator must listen on every interface.
ENV SIGNSIM_HOST=0.0.0.0 \
    SIGNSIM_PORT=8800
EXPOSE 8800
USER 65534:65534
ENTRYPOINT ["signsim"]
CMD ["serve"]
