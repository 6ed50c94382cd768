# syntax=docker/dockerfile:1
# Auth service image: build with the full toolchain, run with production dependencies only.
# Node >= 20.19 is required (package.json "engines"); node:20-bookworm-slim tracks the latest 20.x.

# ---- toolchain -----------------------------------------------------------------------------
# argon2's prebuilt addon crashes on Node 20 (segfault when loaded), so its install script
# compiles it from source: that needs python3, make and g++ (the Node headers ship with the image).
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1
WORKDIR /app

# ---- build ---------------------------------------------------------------------------------
FROM toolchain AS build
# The postinstall script runs `prisma generate`, which needs the schema and the Prisma config.
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci
COPY . .
# prisma generate (client written as TypeScript into libs/database/src/generated), then nest build.
RUN npm run build

# ---- production dependencies ---------------------------------------------------------------
FROM toolchain AS prod-deps
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall (prisma generate) needs the dev dependency `prisma`, and the
# generated client is already compiled into dist/. Only argon2's native addon is then built.
RUN npm ci --omit=dev --ignore-scripts \
 && npm rebuild argon2 \
 && node -e "require('argon2')" \
 && npm cache clean --force

# ---- runtime -------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    DATA_DIR=/app/.data
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Applied at start (DB_MIGRATE_ON_START=true); the compiled app looks for them at
# dist/apps/auth-service/src/../../../../prisma/migrations, i.e. /app/prisma/migrations.
COPY --from=build /app/prisma/migrations ./prisma/migrations
# The shipped mail templates, found the same way (mail/mail-templates.ts: SHIPPED_TEMPLATES_DIR).
COPY --from=build /app/apps/auth-service/mail-templates ./apps/auth-service/mail-templates
# The code stays root-owned and read-only for the service; only DATA_DIR (embedded PGlite) is writable.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/auth-service/src/main.js"]
