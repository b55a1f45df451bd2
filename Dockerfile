# syntax=docker/dockerfile:1
# One image for every Chorus component; the entry point picks the role (working dir /app):
#   gateway          node gateway/dist/src/main.js
#   message-service  node message-service/dist/src/main.js
#   operator         node operator/dist/src/main.js
#   load tester      node loadtest/dist/src/cli.js   (also `loadtest` on PATH)
#   upgrade preflight node loadtest/dist/src/preflight/main.js   (also `preflight` on PATH; the operator's preflight Job)
# Build: docker build -t ghcr.io/chorus-chat/chorus:0.1.0 .

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, compile every workspace ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY shared/package.json shared/
COPY local/package.json local/
COPY gateway/package.json gateway/
COPY message-service/package.json message-service/
COPY operator/package.json operator/
COPY loadtest/package.json loadtest/
COPY e2e/package.json e2e/
RUN npm ci --no-audit --no-fund
COPY shared/ shared/
COPY local/ local/
COPY gateway/ gateway/
COPY message-service/ message-service/
COPY operator/ operator/
COPY loadtest/ loadtest/
RUN npx tsc -b shared local gateway message-service operator loadtest

# ---- runtime: production dependencies and compiled code only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY local/package.json local/
COPY gateway/package.json gateway/
COPY message-service/package.json message-service/
COPY operator/package.json operator/
COPY loadtest/package.json loadtest/
COPY e2e/package.json e2e/
# Only the runtime workspaces' production dependencies (no TypeScript, no test tooling, no e2e).
RUN npm ci --omit=dev --no-audit --no-fund \
      --workspace=shared --workspace=local --workspace=gateway \
      --workspace=message-service --workspace=operator --workspace=loadtest \
 && npm cache clean --force
COPY --from=build /app/shared/dist/src shared/dist/src
COPY --from=build /app/local/dist/src local/dist/src
COPY --from=build /app/gateway/dist/src gateway/dist/src
COPY --from=build /app/message-service/dist/src message-service/dist/src
COPY --from=build /app/operator/dist/src operator/dist/src
COPY --from=build /app/loadtest/dist/src loadtest/dist/src
COPY gateway/public gateway/public
# `loadtest` on PATH (the operator's load-test pods call it so); its file starts with `#!/usr/bin/env node`.
# Pods run with a read-only root filesystem and an emptyDir at /tmp: the load tester's default report
# folder (reports/loadtest, relative to /app) lands there through the reports -> /tmp link.
RUN chmod 0755 loadtest/dist/src/cli.js loadtest/dist/src/preflight/main.js \
 && ln -s /app/loadtest/dist/src/cli.js /usr/local/bin/loadtest \
 && ln -s /app/loadtest/dist/src/preflight/main.js /usr/local/bin/preflight \
 && ln -s /tmp /app/reports
# The image's non-root user ("node", uid 1000); the chart and the operator run pods as this uid
# with a read-only root filesystem (scratch space is an emptyDir at /tmp).
USER 1000:1000
EXPOSE 8080
CMD ["node", "gateway/dist/src/main.js"]
