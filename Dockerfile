# One image for every app of the suite; the app is chosen at run time with APP (see docker-compose.yml):
#   docker build -t recsys-suite:local .
#   docker run -e APP=retrieval -e HOST=0.0.0.0 -p 3001:3001 recsys-suite:local
# With APP unset the container runs all seven apps in one process.

FROM node:20-bookworm-slim AS build
# onnxruntime-node's install script would fetch GPU binaries; the CPU ones ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_nodedir=/usr/local \
    RECSYS_NATIVE_MARCH=x86-64-v2
# hnswlib-node and native/hnsw compile native addons with node-gyp; the image targets x86-64-v2
# (RECSYS_NATIVE_MARCH) so it runs on any recent x86 CPU, not only the build machine's.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The in-repo hnswlib addon is a file: dependency, built by npm rebuild below.
COPY native/hnsw ./native/hnsw
COPY native/spann-io ./native/spann-io
COPY native/sdim ./native/sdim
# --ignore-scripts skips `prepare` (the build needs the sources, copied next); native addons are rebuilt explicitly.
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npm rebuild hnswlib-node msgpackr-extract @recsys/hnsw-native @recsys/spann-io @recsys/sdim-native
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000 3001 3002 3003 3004 3005 3006
# `--only` with no list falls back to $APP (apps/suite/main.ts); exec form so node gets SIGTERM directly.
CMD ["node", "dist/apps/suite/main.js", "--only"]
