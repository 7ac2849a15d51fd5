# One image for the three cluster processes (gateway, api, worker); the Deployment picks the entry point.
# The sources run with tsx (no build step), so the image carries them with production dependencies only.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY packages ./packages
COPY apps ./apps
COPY bench/package.json ./bench/package.json
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
USER node
EXPOSE 8080 8081 8082
CMD ["node", "--max-semi-space-size=4", "--import", "tsx", "apps/gateway/src/main.ts"]
