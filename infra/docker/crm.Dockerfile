# syntax=docker/dockerfile:1.7
# Image of the Tessera crm service. Build from the repository root (the monorepo is the context):
#   docker build -f infra/docker/crm.Dockerfile -t tessera/crm:0.1.0 .
# Run: node dist/main.js (the default command). Migrate and exit: node dist/migrate.js.
# The six infra/docker/<service>.Dockerfile files differ only in SERVICE and PORT
# (k8s/test/dockerfiles.spec.ts checks it). The base is pinned to an exact release; in CI, pin it
# further by digest (node:20.20.2-bookworm-slim@sha256:...) in both FROM lines.

FROM node:20.20.2-bookworm-slim AS build
ARG SERVICE=crm
# Offline Prisma generate needs some existing file as the schema engine and no telemetry.
ENV CI=true \
    CHECKPOINT_DISABLE=1 \
    PRISMA_SCHEMA_ENGINE_BINARY=/bin/true \
    NX_DAEMON=false \
    NX_NO_CLOUD=true
RUN npm install -g --no-audit --no-fund pnpm@10.34.9
WORKDIR /repo
# The lockfile alone fills pnpm's store, so this layer survives source changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
RUN pnpm --filter "@tessera/${SERVICE}" run prisma:generate
RUN pnpm exec nx run-many -t build --projects="@tessera/${SERVICE}" --output-style=stream
# Only this service's production dependencies; workspace libs are copied in with their dist/.
RUN pnpm --filter "@tessera/${SERVICE}" deploy --prod --legacy /out
# @prisma/client pulls the Prisma CLI in as an (auto-installed) peer; the runtime never loads it.
RUN cd /out/node_modules/.pnpm \
 && rm -rf prisma@* @prisma+studio-core@* @electric-sql+pglite@* typescript@* react@* react-dom@* \
 && rm -rf /out/src /out/test /out/prisma.config.ts /out/prisma/schema.prisma

FROM node:20.20.2-bookworm-slim AS runtime
ARG SERVICE=crm
ARG PORT=3001
ENV NODE_ENV=production \
    PORT=${PORT} \
    MIGRATE_ON_START=false
# No package managers at run time: less to patch, nothing to install with.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
# Owned by root and read-only to the app: works with readOnlyRootFilesystem (it writes only to /tmp).
COPY --from=build /out/package.json ./package.json
COPY --from=build /out/node_modules ./node_modules
COPY --from=build /out/dist ./dist
COPY --from=build /out/prisma/migrations ./prisma/migrations
# uid/gid 1000 is the image's `node` user; numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 3001
CMD ["node", "--enable-source-maps", "dist/main.js"]
