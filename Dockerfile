# syntax=docker/dockerfile:1
# Build stage: compile TypeScript, build the login page (dist/frontend), install production
# dependencies (native argon2/LevelDB). Node 24: an LTS line supported until April 2028 (Node 20's
# support ended in April 2026); the native modules are Node-API prebuilds, so no rebuild per line.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY frontend ./frontend
RUN npm run build && npm prune --omit=dev

# Runtime stage: no compilers, a non-root user, data on a volume. The KEK does not belong in that
# volume (a copy of it would hold both the sealed secrets and their key): pass it as a secret file
# with MERO_AUTH_SECRET_KEK_FILE (README, Docker). Without one, the service creates /data/auth.kek.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    AUTH__LISTEN_ADDR=0.0.0.0:3001 \
    AUTH__STORAGE__PATH=/data/auth
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json config.example.toml ./
RUN groupadd --system --gid 10001 meroauth \
 && useradd --system --uid 10001 --gid meroauth --home-dir /data --no-create-home meroauth \
 && mkdir -p /data && chown meroauth:meroauth /data && chmod 0700 /data
USER meroauth
VOLUME /data
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3001/auth/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The environment and flags of src/cli.ts's first line (scripts/node-flags.mjs): at most two malloc
# arenas and a small young generation keep the RSS small (README, Performance).
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/cli.js"]
CMD ["serve"]
