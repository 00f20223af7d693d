// Every conformance scenario Trellis runs, in the order the runner runs them (Gateways first, then HTTPRoute core, then
// the extended features, then GRPCRoute).

import type { ConformanceTest } from './suite.js';
import { gatewayTests } from './tests/gateway.js';
import { httpRouteCoreTests } from './tests/httproute-core.js';
import { httpRouteExtendedTests } from './tests/httproute-extended.js';
import { grpcRouteTests } from './tests/grpcroute.js';

export const ALL_TESTS: readonly ConformanceTest[] = [...gatewayTests, ...httpRouteCoreTests, ...httpRouteExtendedTests, ...grpcRouteTests];
