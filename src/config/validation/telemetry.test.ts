// Table tests of the Telemetry validator: Istio's documented examples pass; metrics, tracing and access-logging rules fail where expected.

import { telemetryValidators as v } from './telemetry.js';
import { manifest, testInvalid, testValid } from './testing.js';

const tel = (body: string) => manifest('telemetry.istio.io/v1alpha1', 'Telemetry', body);

testValid('Telemetry', v, [
  { name: 'mesh-wide sampling', yaml: tel('spec:\n  tracing:\n  - randomSamplingPercentage: 10.00') },
  {
    name: 'metrics overrides from the docs',
    yaml: tel(`
      spec:
        selector:
          matchLabels:
            app: reviews
        metrics:
        - providers:
          - name: prometheus
          overrides:
          - match:
              metric: REQUEST_COUNT
              mode: CLIENT
            tagOverrides:
              request_host:
                value: "request.host"
              response_code:
                operation: REMOVE
          - match:
              customMetric: my_metric
            disabled: true
          reportingInterval: 15s
    `),
  },
  {
    name: 'custom tracing tags of each kind',
    yaml: tel(`
      spec:
        tracing:
        - providers:
          - name: zipkin
          customTags:
            cluster:
              literal:
                value: east
            pod:
              environment:
                name: POD_NAME
                defaultValue: unknown
            user:
              header:
                name: x-user
    `),
  },
  {
    name: 'access log filter',
    yaml: tel(`
      spec:
        accessLogging:
        - providers:
          - name: envoy
          filter:
            expression: response.code >= 400
          match:
            mode: SERVER
    `),
  },
  { name: 'targetRef to a waypoint', yaml: tel('spec:\n  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: waypoint\n  accessLogging:\n  - disabled: true') },
]);

testInvalid('Telemetry', v, [
  { name: 'unknown metric', yaml: tel('spec:\n  metrics:\n  - overrides:\n    - match:\n        metric: REQUESTS\n      disabled: true'), path: '/spec/metrics/0/overrides/0/match/metric', message: 'must be one of "ALL_METRICS"' },
  { name: 'metric and customMetric together', yaml: tel('spec:\n  metrics:\n  - overrides:\n    - match:\n        metric: REQUEST_COUNT\n        customMetric: x'), path: '/spec/metrics/0/overrides/0/match', message: 'set only one of metric and customMetric' },
  { name: 'unknown match mode', yaml: tel('spec:\n  metrics:\n  - overrides:\n    - match:\n        mode: BOTH'), path: '/spec/metrics/0/overrides/0/match/mode', message: 'must be one of "CLIENT_AND_SERVER", "CLIENT", "SERVER"' },
  { name: 'unknown tag operation', yaml: tel('spec:\n  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: DELETE'), path: '/spec/metrics/0/overrides/0/tagOverrides/foo/operation', message: 'must be one of "UPSERT", "REMOVE"' },
  { name: 'UPSERT without a value', yaml: tel('spec:\n  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: UPSERT'), path: '/spec/metrics/0/overrides/0/tagOverrides/foo', message: 'value is required when the operation is UPSERT' },
  { name: 'default operation without a value', yaml: tel('spec:\n  metrics:\n  - overrides:\n    - tagOverrides:\n        foo: {}'), path: '/spec/metrics/0/overrides/0/tagOverrides/foo', message: 'value is required' },
  { name: 'REMOVE with a value', yaml: tel('spec:\n  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: REMOVE\n          value: x'), path: '/spec/metrics/0/overrides/0/tagOverrides/foo/value', message: 'only be set when the operation is UPSERT' },
  { name: 'bad reporting interval', yaml: tel('spec:\n  metrics:\n  - reportingInterval: 15 seconds'), path: '/spec/metrics/0/reportingInterval', message: 'must be a duration' },
  { name: 'sampling above 100', yaml: tel('spec:\n  tracing:\n  - randomSamplingPercentage: 150'), path: '/spec/tracing/0/randomSamplingPercentage', message: 'between 0 and 100' },
  { name: 'negative sampling', yaml: tel('spec:\n  tracing:\n  - randomSamplingPercentage: -1'), path: '/spec/tracing/0/randomSamplingPercentage', message: 'between 0 and 100' },
  { name: 'sampling as a string', yaml: tel('spec:\n  tracing:\n  - randomSamplingPercentage: "10%"'), path: '/spec/tracing/0/randomSamplingPercentage', message: 'must be a number' },
  { name: 'custom tag with no kind', yaml: tel('spec:\n  tracing:\n  - customTags:\n      foo: {}'), path: '/spec/tracing/0/customTags/foo', message: 'exactly one of literal, environment or header' },
  {
    name: 'custom tag with two kinds',
    yaml: tel('spec:\n  tracing:\n  - customTags:\n      foo:\n        literal: {value: a}\n        header: {name: x}'),
    path: '/spec/tracing/0/customTags/foo',
    message: 'found literal and header',
  },
  { name: 'empty literal tag', yaml: tel('spec:\n  tracing:\n  - customTags:\n      foo:\n        literal: {}'), path: '/spec/tracing/0/customTags/foo/literal', message: 'literal tag value must not be empty' },
  { name: 'header tag without name', yaml: tel('spec:\n  tracing:\n  - customTags:\n      foo:\n        header: {defaultValue: x}'), path: '/spec/tracing/0/customTags/foo/header', message: 'header tag name must not be empty' },
  { name: 'two tracing providers', yaml: tel('spec:\n  tracing:\n  - providers:\n    - name: a\n    - name: b'), path: '/spec/tracing/0/providers', message: 'only one tracing provider', level: 'Warning' },
  { name: 'two tracing entries', yaml: tel('spec:\n  tracing:\n  - randomSamplingPercentage: 1\n  - randomSamplingPercentage: 2'), path: '/spec/tracing', message: 'only one tracing configuration', level: 'Warning' },
  { name: 'provider without name', yaml: tel('spec:\n  accessLogging:\n  - providers:\n    - {}'), path: '/spec/accessLogging/0/providers/0', message: 'provider name is required' },
  { name: 'filter without expression', yaml: tel('spec:\n  accessLogging:\n  - filter: {}'), path: '/spec/accessLogging/0/filter', message: 'filter.expression is required' },
  { name: 'empty filter expression', yaml: tel('spec:\n  accessLogging:\n  - filter:\n      expression: " "'), path: '/spec/accessLogging/0/filter', message: 'filter.expression is required' },
  { name: 'misspelt field', yaml: tel('spec:\n  accessLogs:\n  - disabled: true'), path: '/spec/accessLogs', message: 'unknown field "accessLogs"' },
  {
    name: 'selector and targetRefs together',
    yaml: tel('spec:\n  selector:\n    matchLabels: {app: a}\n  targetRefs:\n  - kind: Service\n    name: a'),
    path: '/spec/targetRefs',
    message: 'selector and targetRef cannot both be set',
  },
  { name: 'targetRef without name', yaml: tel('spec:\n  targetRef:\n    kind: Service'), path: '/spec/targetRef', message: 'targetRef name is required' },
]);
