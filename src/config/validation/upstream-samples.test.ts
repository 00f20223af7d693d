// Istio's own sample manifests must pass the security, telemetry, Gateway API, Maistra and Kubernetes validators without an Error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPaths } from '../loader.js';
import { resourceLabel } from '../resource.js';
import { securityValidators } from './security.js';
import { telemetryValidators } from './telemetry.js';
import { gatewayApiValidators } from './gateway-api.js';
import { maistraValidators } from './maistra.js';
import { kubernetesValidators } from './kubernetes.js';
import type { KindValidator } from './validator.js';
import { istioSamplesDir } from '../../samples.js';

const SAMPLES = istioSamplesDir();

const validators: Record<string, KindValidator> = {
  ...securityValidators,
  ...telemetryValidators,
  ...gatewayApiValidators,
  ...maistraValidators,
  ...kubernetesValidators,
};

test('every upstream sample of these kinds validates without an Error', async () => {
  const { resources, errors } = await loadPaths([SAMPLES]);
  assert.deepEqual(errors, [], 'the samples load');
  let checked = 0;
  const problems: string[] = [];
  for (const r of resources) {
    const validate = validators[`${r.group}/${r.kind}`];
    if (!validate) continue;
    checked++;
    for (const issue of validate(r)) {
      if (issue.level === 'Error') problems.push(`${r.source?.file}: ${resourceLabel(r)}: ${issue.message}`);
    }
  }
  // Guard against a vacuous pass: the samples hold Services, Deployments, ServiceAccounts, Gateways and HTTPRoutes.
  assert.ok(checked >= 30, `expected at least 30 objects of these kinds in the samples, found ${checked}`);
  assert.deepEqual(problems, []);
});
