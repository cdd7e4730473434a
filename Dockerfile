# Roomline worker image: Node 22, the built worker and bot page, Debian's Chromium. Runs as the unprivileged `node`
# user; nothing is downloaded or unpacked at start. Build context: the repository root (see .dockerignore).
#
#   docker build -t roomline-worker .
#   docker run --rm -e ROOMLINE_QUEUE_URL=... -e ROOMLINE_TABLE=... -e ROOMLINE_JANUS_URLS=... roomline-worker

ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Build: install every dependency (no install scripts: nothing is downloaded) and build dist/ without the lab.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs --no-lab

# 2. Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. Runtime: Debian's Chromium (with the nss/nspr/expat/font libraries it depends on) and tini as PID 1, which
#    forwards SIGTERM to the worker and reaps Chromium's child processes.
#    Chromium runs as its own user, roomline-browser, apart from the worker (node): its processes cannot read the
#    worker's environment (which holds the task's credential endpoint) or memory, nor signal it. The worker switches to
#    that user with a copy of setpriv carrying CAP_SETUID and CAP_SETGID as file capabilities, which only the node
#    group may run (the browser's user may not).
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation ca-certificates tini libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && chromium --version \
 && useradd --system --uid 10002 --user-group --no-create-home --shell /usr/sbin/nologin roomline-browser \
 && install -d -m 0755 /usr/local/libexec/roomline \
 && install -o root -g node -m 0750 /usr/bin/setpriv /usr/local/libexec/roomline/setpriv \
 && setcap cap_setuid,cap_setgid=ep /usr/local/libexec/roomline/setpriv
ENV NODE_ENV=production \
    ROOMLINE_CHROMIUM_PATH=/usr/bin/chromium \
    ROOMLINE_CHROMIUM_USER=roomline-browser \
    ROOMLINE_CHROMIUM_SETPRIV=/usr/local/libexec/roomline/setpriv \
    HOME=/home/node
WORKDIR /app
# Application files stay owned by root: the worker can read but not change them.
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
USER node
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli.mjs"]
CMD ["worker"]
