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
# The CA's folder, made here because the runtime image has no shell to make it: copied
# below owned by the non-root user, so a named volume mounted on /certs starts with that
# owner (Docker fills a new volume from the image's folder) and SIGNSIM_CA_DIR=/certs
# can write ca.key there.
RUN mkdir -p /out/certs

# Runtime stage: distroless/cc, the smallest base for a glibc binary (a static musl build
# would need the musl target and aws-lc-sys cross-compiled for it). It holds exactly what
# the binary needs at run time, which ci/chroot-test.sh rebuilds and tries without Docker:
# glibc, libgcc_s and libm (what `ldd` lists), /etc/nsswitch.conf (webhook receivers by
# host name), the ca-certificates bundle (https receivers with public certificates),
# /etc/passwd with the nonroot user 65532, and a writable /tmp.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/signsim /usr/local/bin/signsim
COPY --from=build --chown=65532:65532 /out/certs /certs
# Inside a container the simulator must listen on every interface. Set
# SIGNSIM_ADMIN_TOKEN when others share the network (a warning says so otherwise).
ENV SIGNSIM_HOST=0.0.0.0 \
    SIGNSIM_PORT=8800
EXPOSE 8800
USER 65532:65532
# No shell or curl in the image: the binary checks itself (https aware; see the README).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/signsim", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/signsim"]
CMD ["serve"]
