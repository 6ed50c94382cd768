# syntax=docker/dockerfile:1
# Auth service image: build with the dev dependencies, run with production dependencies only.
# Node 24 (Krypton), the current LTS line on 2026-12-04 (Node 20 reached its end of life in April
# 2026; 22 is in maintenance); package.json "engines" lists the lines the service supports.
# node:24-slim tracks the latest 24.x on Debian's current stable.

# ---- toolchain -----------------------------------------------------------------------------
# No compiler: every native addon loads from its prebuilt binary on Node 24 (argon2's N-API
# prebuilds, SWC's and Prisma's platform packages), so python3/make/g++ are not needed.
FROM node:24-slim AS toolchain
ENV CHECKPOINT_DISABLE=1 \
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
# generated client is already compiled into dist/. argon2 needs no install script on Node 24: its
# prebuilt addon is loaded at run time (the check below hashes once, so a broken addon fails the build).
RUN npm ci --omit=dev --ignore-scripts \
 && node -e "require('argon2').hash('x').then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })" \
 && npm cache clean --force

# ---- runtime -------------------------------------------------------------------------------
FROM node:24-slim AS runtime
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
# Operator commands in the same image (migrate, create-admin, disable-user, revoke-sessions,
# rotate-keys; see README "Operator CLI"): docker run --rm -i --env-file … <image> node dist/apps/auth-service/src/cli.js --help
CMD ["node", "dist/apps/auth-service/src/main.js"]
