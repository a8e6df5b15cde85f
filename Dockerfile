# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, ship only dist/ + production dependencies, run as non-root.
# The simulators' in-memory Kinesis (kinesalite, with the native leveldown) is a dev dependency:
# `npm prune --omit=dev` leaves it out of the image.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY connectors ./connectors
# The simulators and the demo stack: `simulate` and `demo` load them from dist/simulators/.
COPY simulators ./simulators
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json config.example.yaml ./
COPY bin ./bin
USER node
EXPOSE 9464
# Liveness, not readiness: Docker restarts an unhealthy container (with autoheal or in Swarm), and
# a restart cures a hung process, not a Redis blip or an upstream outage (/readyz turns 503 for those).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/moments-bridge.js"]
CMD ["run", "-c", "/config/config.yaml"]
