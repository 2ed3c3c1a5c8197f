# syntax=docker/dockerfile:1

# Build stage: cgo is required (mattn/go-sqlite3 compiles SQLite in), so the
# builder is the full Debian-based Go image with gcc.
FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=1
# Module downloads are cached apart from the source so code edits do not
# refetch dependencies.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/day2bot ./cmd/day2bot

# Runtime stage: a small glibc image (the binary links glibc through cgo)
# with CA certificates, running as a non-root user. Time zones are embedded
# in the binary (time/tzdata), so the image needs no tzdata package.
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/day2bot /usr/local/bin/day2bot
# Config and the SQLite database live on a volume. It must be a local disk:
# SQLite in WAL mode needs shared memory and POSIX locks that NFS/EFS do not
# provide reliably, and the bot runs as a single replica per database.
VOLUME ["/data"]
WORKDIR /data
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/day2bot"]
CMD ["serve", "--config", "/data/day2bot.yaml", "--db", "/data/day2bot.db", "--listen", ":8080"]
