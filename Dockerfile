# The Trellis image: `trellis controlplane --in-cluster` as `trellis install` and the operator's Deployments run it
# (their container args are the subcommand), and every other trellis command.
#   docker build -t quay.io/trellis/trellis:<version> .
# src/k8s/install/dockerfile.test.ts checks that what it copies exists and that the entrypoint runs the CLI.

FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY native ./native
COPY protos ./protos
COPY scripts ./scripts
COPY src ./src
# npm ci runs `prepare` (compile, xDS descriptor, native addons); build adds the console's web bundle.
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /opt/trellis
COPY --from=build /src/package.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/native ./native
COPY --from=build /src/protos ./protos
COPY --from=build /src/node_modules ./node_modules
# Non-root by number, so a Pod with runAsNonRoot (the control plane's Deployment) can prove it; Istio's proxy uid.
USER 1337:1337
ENTRYPOINT ["node", "/opt/trellis/bin/trellis.js"]
CMD ["--help"]
