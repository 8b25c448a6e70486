# Pinak Memory over HTTP, for one server or several replicas on PostgreSQL
# (see docs/deploy.md and docker-compose.prod.yml).
#
#   docker build -t pinak-memory .
#   docker run --rm pinak-memory --help

# Build: native modules (better-sqlite3, hnswlib-node) and TypeScript, then
# drop the development packages.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# package.json's allowScripts runs the native builds and denies onnxruntime-node's download of extra
# binaries (a development dependency, pruned below); this image's npm 10 predates allowScripts, so
# the runtime's own flag says the same.
RUN npm_config_onnxruntime_node_install=skip npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: production packages, the compiled server and the bundled model only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PINAK_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY models ./models
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 7878
# Ready: listening, not shutting down, and the database answers.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:7878/readyz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
# Every interface, so other containers and the host reach it; every request
# needs an API key or a token (--auth keys), even before the first key exists.
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "7878", "--auth", "keys"]
