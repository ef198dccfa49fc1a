# One image for the five services: Node 24, production dependencies only, non-root.
# A container runs one service, chosen by SERVICE (auth, extractor, validator, loader, api).
# TypeScript runs as is: Node 24 strips types, so there is no build step and no compiled copy to drift.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/common/package.json libs/common/
COPY libs/store/package.json libs/store/
COPY libs/spotify/package.json libs/spotify/
COPY services/auth/package.json services/auth/
COPY services/extractor/package.json services/extractor/
COPY services/validator/package.json services/validator/
COPY services/loader/package.json services/loader/
COPY services/api/package.json services/api/
COPY tools/spotify-sim/package.json tools/spotify-sim/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY libs ./libs
COPY services ./services
USER node
ENV SERVICE=api
CMD ["sh", "-c", "exec node services/${SERVICE}/src/main.ts"]
