// envoy.filters.http.router: the terminal HTTP filter; hands the request to the router.

import { registerHttpFilter } from '../filter-registry.js';
import { FilterStatus, type HttpFilter } from '../filter.js';
import type { HttpStream } from '../http-stream.js';
import { routeRequest } from '../router.js';

export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

registerHttpFilter<Record<string, never>, never>({
  names: ['envoy.filters.http.router', 'envoy.router'],
  configTypes: [ROUTER_TYPE],
  parseConfig: () => ({}),
  create: (_cfg, name): HttpFilter => ({
    name,
    decodeHeaders(stream: HttpStream): FilterStatus {
      routeRequest(stream);
      return FilterStatus.Stop;
    },
  }),
});
