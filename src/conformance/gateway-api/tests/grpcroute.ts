// GRPCRoute scenarios of the conformance suite (GATEWAY-GRPC core): exact method matches, header matches and listener
// hostnames, with gRPC clients calling the echo service through the Gateway.

import * as grpc from '@grpc/grpc-js';
import { INFRA } from '../base.js';
import { expectGrpcEventually, grpcCall, type GrpcExpectation } from '../grpc-expect.js';
import type { Harness } from '../harness.js';
import type { ConformanceTest } from '../suite.js';
import { gateway, route } from './yaml.js';

const SERVICE = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';
const backend = (v: string, extra = '') => `{name: grpc-infra-backend-${v}, port: 8080${extra}}`;
const grpcRoute = (name: string, spec: string) => route(name, spec, { kind: 'GRPCRoute' });

async function expectAll(h: Harness, gw: { name: string }, routes: string[], cases: GrpcExpectation[]): Promise<void> {
  const address = await h.gatewayAndRoutesAccepted(gw, routes.map((name) => ({ kind: 'GRPCRoute', name })));
  for (const c of cases) await expectGrpcEventually(address, 80, c, h.consistency);
}

const to = (v: string, method: string, metadata?: Record<string, string>, authority?: string): GrpcExpectation => ({ method, backend: `grpc-infra-backend-${v}`, ...(metadata ? { metadata } : {}), ...(authority ? { authority } : {}) });
const unimplemented = (method: string, metadata?: Record<string, string>, authority?: string): GrpcExpectation => ({ method, code: grpc.status.UNIMPLEMENTED, ...(metadata ? { metadata } : {}), ...(authority ? { authority } : {}) });

export const grpcRouteTests: ConformanceTest[] = [
  {
    name: 'GRPCExactMethodMatching',
    description: 'A single GRPCRoute with exact method matching for different backends.',
    features: ['Gateway', 'GRPCRoute'],
    manifests: grpcRoute('exact-matching', `  parentRefs: [{name: same-namespace}]\n  rules:\n  - matches: [{method: {service: ${SERVICE}, method: Echo}}]\n    backendRefs: [${backend('v1')}]\n  - matches: [{method: {service: ${SERVICE}, method: EchoTwo}}]\n    backendRefs: [${backend('v2')}]`),
    async run(h) {
      await expectAll(h, { name: 'same-namespace' }, ['exact-matching'], [to('v1', 'Echo'), to('v2', 'EchoTwo'), unimplemented('EchoThree')]);
    },
  },
  {
    name: 'GRPCRouteHeaderMatching',
    description: 'A single GRPCRoute with header matching for different backends, with the same precedence as HTTPRoute headers.',
    features: ['Gateway', 'GRPCRoute'],
    manifests: grpcRoute(
      'grpc-header-matching',
      `  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{headers: [{name: version, value: one}]}]
    backendRefs: [${backend('v1')}]
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [${backend('v2')}]
  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]
    backendRefs: [${backend('v1')}]
  - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]
    backendRefs: [${backend('v1')}]
  - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]
    backendRefs: [${backend('v2')}]`,
    ),
    async run(h) {
      await expectAll(h, { name: 'same-namespace' }, ['grpc-header-matching'], [
        to('v1', 'Echo', { version: 'one' }),
        to('v2', 'Echo', { version: 'two' }),
        to('v1', 'Echo', { version: 'two', color: 'orange' }),
        to('v2', 'Echo', { version: 'two', color: 'blue' }),
        unimplemented('Echo', { color: 'orange' }),
        unimplemented('Echo', { 'some-other-header': 'one' }),
        to('v1', 'Echo', { color: 'blue' }),
        to('v1', 'Echo', { color: 'green' }),
        to('v2', 'Echo', { color: 'red' }),
        to('v2', 'Echo', { color: 'yellow' }),
        unimplemented('Echo', { color: 'purple' }),
      ]);
    },
  },
  {
    name: 'GRPCRouteListenerHostnameMatching',
    description: 'Multiple GRPC listeners with hostnames that each match a different GRPCRoute.',
    features: ['Gateway', 'GRPCRoute'],
    manifests: [
      gateway('grpcroute-listener-hostname-matching', ['bar.com', 'foo.bar.com', '"*.bar.com"', '"*.foo.com"'].map((host, i) => `  - {name: listener-${i + 1}, port: 80, protocol: HTTP, hostname: ${host}, allowedRoutes: {namespaces: {from: Same}}}`).join('\n')),
      grpcRoute('backend-v1', `  parentRefs: [{name: grpcroute-listener-hostname-matching, namespace: ${INFRA}, sectionName: listener-1}]\n  rules: [{backendRefs: [${backend('v1')}]}]`),
      grpcRoute('backend-v2', `  parentRefs: [{name: grpcroute-listener-hostname-matching, namespace: ${INFRA}, sectionName: listener-2}]\n  rules: [{backendRefs: [${backend('v2')}]}]`),
      grpcRoute('backend-v3', `  parentRefs:\n  - {name: grpcroute-listener-hostname-matching, namespace: ${INFRA}, sectionName: listener-3}\n  - {name: grpcroute-listener-hostname-matching, namespace: ${INFRA}, sectionName: listener-4}\n  rules: [{backendRefs: [${backend('v3')}]}]`),
    ].join(''),
    async run(h) {
      await expectAll(h, { name: 'grpcroute-listener-hostname-matching' }, ['backend-v1', 'backend-v2', 'backend-v3'], [
        to('v1', 'Echo', undefined, 'bar.com'),
        to('v2', 'Echo', undefined, 'foo.bar.com'),
        to('v3', 'Echo', undefined, 'baz.bar.com'),
        to('v3', 'Echo', undefined, 'boo.bar.com'),
        to('v3', 'Echo', undefined, 'multiple.prefixes.bar.com'),
        to('v3', 'Echo', undefined, 'multiple.prefixes.foo.com'),
        unimplemented('Echo', undefined, 'foo.com'),
        unimplemented('Echo', undefined, 'no.matching.host'),
      ]);
    },
  },
  {
    name: 'GRPCRouteWeight',
    description: 'A GRPCRoute with weighted backends (70/30/0).',
    features: ['Gateway', 'GRPCRoute'],
    manifests: grpcRoute('weighted-backends', `  parentRefs: [{name: same-namespace}]\n  rules: [{backendRefs: [${backend('v1', ', weight: 70')}, ${backend('v2', ', weight: 30')}, ${backend('v3', ', weight: 0')}]}]`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted({ name: 'same-namespace' }, [{ kind: 'GRPCRoute', name: 'weighted-backends' }]);
      await expectGrpcEventually(address, 80, { method: 'Echo' }, h.consistency);
      const seen: Record<string, number> = {};
      const total = 300;
      for (let i = 0; i < total; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            const r = await grpcCall(address, 80, { method: 'Echo' });
            const b = ['v1', 'v2', 'v3'].find((v) => r.assertions?.context.pod.startsWith(`grpc-infra-backend-${v}`)) ?? `status ${r.code}`;
            seen[b] = (seen[b] ?? 0) + 1;
          }),
        );
      }
      const off = Object.entries({ v1: 0.7, v2: 0.3, v3: 0 }).filter(([b, w]) => Math.abs((seen[b] ?? 0) / total - w) > 0.08);
      if (off.length || Object.keys(seen).length !== 2) throw new Error(`weighted distribution off: ${JSON.stringify(seen)}`);
    },
  },
];
