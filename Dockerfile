# avatar-gateway: built with tsc (decorator metadata intact), run with plain node.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json schema.graphql ./
COPY src ./src
COPY mocks ./mocks
# The web console (served from dist/console when CONSOLE_ENABLED=true).
COPY console ./console
COPY scripts/build-console.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
# Production: the gateway refuses to start without UPSTREAM_URL (set `UPSTREAM_URL=simulator` to
# serve the in-memory simulator on purpose). The same image runs the standalone simulator with
# `node dist/simulator/main.js` (port 4020; docker-compose.yml does).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 SIMULATOR_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The client validates upstream answers against the contract at run time.
COPY --from=build /app/mocks ./mocks
# The SQLite ledger's directory (LEDGER_PATH=./data/…), writable by the unprivileged user; mount
# a volume here to keep it across containers (or set DATABASE_URL for PostgreSQL).
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:4000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/index.js"]
