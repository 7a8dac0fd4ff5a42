# Builds both apps and the operator tools; pick one with the command (see docker-compose.yml):
#   node dist/apps/ingest/main.js | node dist/apps/query/main.js
#   node dist/tools/events.js <command> (npm run events) | node dist/tools/rebuild.js (npm run rebuild)
# Node 24 (LTS): every dependency's `engines` accepts its .0 release (content-disposition 3 wants
# >= 22, the lint tools ^22.13 or >= 24; test/ops/compose.spec.ts checks the whole lockfile).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4200 4201
CMD ["node", "dist/apps/query/main.js"]
