# syntax=docker/dockerfile:1
# The adapter image: ghcr.io/k8s-custom-metrics/k8s-custom-metrics (deploy/base/deployment.yaml).
#   docker build -t ghcr.io/k8s-custom-metrics/k8s-custom-metrics:v0.1.0 .
# Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 … (each platform runs its
# own npm ci, so esbuild's platform package matches).

# 1. Compile src/ to dist/ (tsc -p tsconfig.build.json), then bundle it to dist/bundle/ (esbuild,
#    scripts/bundle.mjs), which `serve` starts from.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.mjs ./scripts/
RUN npm run build

# 2. Production dependencies only.
FROM node:20-bookworm-slim AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Runtime: Node.js 20 without a shell or package manager, as the nonroot user (65532).
FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
# Sized for kube-prometheus' limit of 180Mi (deploy/base/deployment.yaml): the old generation is
# capped at 96 MiB, so a runaway heap ends in V8's own out-of-memory error before the kernel's
# OOM kill; the young generation's semi-spaces at 2 MiB: V8's default (up to 16 MiB) took 64
# concurrent 1,000-pod answers to 175 MiB of RSS. The price is CPU in garbage collection: up to
# twice the default's CPU per request over 100 and 1,000 pods (4 MiB took a third off that for
# ~7 MiB more peak RSS, too close to 150 MiB; bench/RESULTS.md).
# bench/ runs the adapter with this value; deploy/base/deployment.yaml repeats it.
ENV NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=2"
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# bin/k8s-custom-metrics.js runs dist/cli/main.js when it exists (it does here).
COPY bin ./bin
USER 65532:65532
EXPOSE 6443
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/k8s-custom-metrics.js", "serve"]
