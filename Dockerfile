# syntax=docker/dockerfile:1
# Herald's container image: one gateway node. Build: docker build -t herald .
# Run (one node, SQLite on the volume):
#   docker run -p 8000:8000 -e HERALD_JWT_SECRET=... -e HERALD_API_KEY=... -v herald-data:/var/lib/herald herald
# compose.yaml runs a cluster of two; deploy/helm/herald is the Kubernetes chart.

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: every dependency, the TypeScript build and the inbox page ---------------------------------------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source where no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# npm ci runs the root `prepare` script, which is the build (tsc -b and the inbox page).
RUN npm ci --no-audit --no-fund \
  # Production dependencies only from here on: the compilers, test tools and type packages go.
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf packages/*/src packages/*/test packages/*/tsconfig*.json apps/inbox/src bench scripts docs \
  && find . -name '*.tsbuildinfo' -delete

# --- runtime ---------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HERALD_HOST=0.0.0.0 \
    HERALD_PORT=8000 \
    HERALD_DATA_DIR=/var/lib/herald \
    HERALD_SHUTDOWN_TIMEOUT_MS=10000 \
    NODE_COMPILE_CACHE=/tmp/herald-compile-cache
# Herald runs as its own unprivileged user; the application files belong to root and cannot be changed by it.
RUN groupadd --system --gid 10001 herald \
  && useradd --system --uid 10001 --gid herald --home-dir /var/lib/herald --shell /usr/sbin/nologin herald \
  && mkdir -p /var/lib/herald \
  && chown herald:herald /var/lib/herald
WORKDIR /app
COPY --from=build /app /app
# The SQLite database (HERALD_DATABASE_URL unset) and development secrets live here; with PostgreSQL it stays empty.
VOLUME ["/var/lib/herald"]
USER herald:herald
EXPOSE 8000
# SIGTERM starts Herald's graceful stop: /readyz turns 503, every socket is closed with 1012 (clients reconnect
# elsewhere), in-flight requests finish, and the process exits 0 within HERALD_SHUTDOWN_TIMEOUT_MS and a little more.
# `docker stop` waits 10 s by default: give it --time longer than HERALD_SHUTDOWN_TIMEOUT_MS / 1000.
STOPSIGNAL SIGTERM
# The image has no curl: Node's own fetch asks /readyz (200 when the database answers, 503 while draining).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HERALD_PORT || 8000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "packages/server/bin/herald.js"]
CMD ["start"]
