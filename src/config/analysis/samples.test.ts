// Istio's own samples, analyzed the way people apply them. As Trellis runs them (--local, trellis up): no Error, except
// where a sample depends on something made at run time. As istioctl answers (the default): the same, plus the IST0173
// Errors istioctl itself reports for DestinationRule subsets of versions that bookinfo.yaml does not deploy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics.js';
import { loadPaths } from '../loader.js';
import { analyzeResources, type AnalysisMode } from './run.js';
import { istioSamplesDir } from '../../samples.js';

const samples = `${istioSamplesDir()}/`;

const bookinfo = 'bookinfo/platform/kube/bookinfo.yaml';
const versions = 'bookinfo/platform/kube/bookinfo-versions.yaml';
const gateway = 'bookinfo/networking/bookinfo-gateway.yaml';
const drAll = 'bookinfo/networking/destination-rule-all.yaml';

async function analyzeFiles(files: readonly string[], mode: AnalysisMode = 'local'): Promise<Diagnostic[]> {
  const loaded = await loadPaths([...new Set(files)].map((f) => samples + f));
  return analyzeResources(loaded.resources, { loadErrors: loaded.errors, mode }).diagnostics;
}

const errors = (ds: Diagnostic[]) => ds.filter((d) => d.level === 'Error').map((d) => `${d.code} ${d.resource?.kind} ${d.resource?.namespace}/${d.resource?.name}: ${d.message}`);

/** Versions Bookinfo's DestinationRules name that bookinfo.yaml does not deploy (bookinfo-ratings-v2*.yaml, bookinfo-details-v2.yaml do). */
const NOT_DEPLOYED: Record<string, readonly string[]> = { ratings: ['v2', 'v2-mysql', 'v2-mysql-vm'], details: ['v2'] };

/** The Errors of the default (istioctl) answer that are not IST0173 for a subset of a version bookinfo.yaml does not deploy. */
function errorsBeyondUndeployedSubsets(ds: Diagnostic[]): string[] {
  const undeployed = (d: Diagnostic) =>
    d.code === 'IST0173' && d.resource?.kind === 'DestinationRule' && (NOT_DEPLOYED[d.resource.name] ?? []).some((v) => d.message.startsWith(`The Subset ${v} defined`));
  return errors(ds.filter((d) => !undeployed(d)));
}

/**
 * Errors a sample legitimately has when analyzed with the Bookinfo app, with the reason. Everything else must be free of them.
 * certmanager-gateway.yaml routes ACME HTTP-01 challenges to `cert-manager-resolver`, a Service that cert-manager creates
 * while a challenge is open; until then the host does not exist, and Istio reports the same IST0101.
 */
const EXPECTED_ERRORS: Record<string, string[]> = {
  'bookinfo/networking/certmanager-gateway.yaml': ['IST0101 VirtualService istio-system/cert-manager: Referenced host not found: "cert-manager-resolver"'],
};

const networking = readdirSync(`${samples}bookinfo/networking`).filter((f) => f.endsWith('.yaml')).sort();
const gatewayApi = readdirSync(`${samples}bookinfo/gateway-api`).filter((f) => f.endsWith('.yaml')).sort();

test('the sample directories hold what these tests expect', () => {
  assert.ok(networking.length >= 20 && networking.includes('bookinfo-gateway.yaml'), 'bookinfo/networking');
  assert.ok(gatewayApi.includes('route-reviews-v1.yaml'), 'bookinfo/gateway-api');
});

test('Bookinfo on its own analyzes clean', async () => {
  for (const mode of ['local', 'istioctl'] as const) {
    assert.deepEqual(await analyzeFiles([bookinfo], mode), [], mode);
    assert.deepEqual(await analyzeFiles([bookinfo, versions], mode), [], mode);
  }
});

test('as istioctl answers, subsets of versions bookinfo.yaml does not deploy are IST0173 Errors, and only those', async () => {
  const ds = (await analyzeFiles([bookinfo, drAll], 'istioctl')).filter((d) => d.code === 'IST0173');
  assert.deepEqual(ds.map((d) => `${d.level} ${d.resource?.name} ${d.line}`), ['Error ratings 39', 'Error ratings 42', 'Error ratings 45', 'Error details 59']);
  assert.deepEqual(errorsBeyondUndeployedSubsets(ds), []);
});

// Each routing sample goes with the app, its ingress gateway, and the subsets it routes to (as Istio's task pages apply them).
// A sample that brings its own DestinationRules replaces destination-rule-all.yaml rather than being overlaid on it.
for (const file of networking) {
  const sample = `bookinfo/networking/${file}`;
  test(`${sample} with bookinfo.yaml has no unexpected Error`, async () => {
    const base = file.startsWith('destination-rule-') ? [bookinfo, gateway] : [bookinfo, gateway, drAll];
    assert.deepEqual(errors(await analyzeFiles([...base, sample])), EXPECTED_ERRORS[sample] ?? [], 'as trellis up runs it (--local)');
    assert.deepEqual(errorsBeyondUndeployedSubsets(await analyzeFiles([...base, sample], 'istioctl')), EXPECTED_ERRORS[sample] ?? [], 'as istioctl answers');
  });
}

// The Gateway API routes split traffic over the per-version Services of bookinfo-versions.yaml, which Istio's
// traffic-management tasks apply before them.
for (const file of gatewayApi) {
  const sample = `bookinfo/gateway-api/${file}`;
  test(`${sample} with bookinfo.yaml and bookinfo-versions.yaml has no Error`, async () => {
    assert.deepEqual(errors(await analyzeFiles([bookinfo, versions, sample])), []);
    assert.deepEqual(errors(await analyzeFiles([bookinfo, versions, sample], 'istioctl')), []);
  });
}

for (const sample of ['httpbin/httpbin.yaml', 'sleep/sleep.yaml', 'curl/curl.yaml', 'extauthz/ext-authz.yaml']) {
  test(`${sample} on its own analyzes clean`, async () => {
    assert.deepEqual(await analyzeFiles([sample]), []);
    assert.deepEqual(await analyzeFiles([sample], 'istioctl'), []);
  });
}

test('subsets Bookinfo declares ahead of their versions are Info, and a Warning once a route sends traffic there', async () => {
  const ds = await analyzeFiles([bookinfo, drAll]);
  assert.deepEqual(
    ds.map((d) => `${d.level} ${d.code} ${d.resource?.name} ${d.line}`),
    ['Info TRL0101 ratings 39', 'Info TRL0101 ratings 42', 'Info TRL0101 ratings 45', 'Info TRL0101 details 59'],
  );
  // virtual-service-ratings-db.yaml routes to ratings v2, which bookinfo.yaml does not deploy (bookinfo-ratings-v2.yaml does).
  const routed = await analyzeFiles([bookinfo, drAll, 'bookinfo/networking/virtual-service-ratings-db.yaml']);
  assert.deepEqual(routed.filter((d) => d.level !== 'Info').map((d) => `${d.level} ${d.code} ${d.resource?.name} ${d.line}`), ['Warning TRL0101 ratings 39']);
});

test('all samples at once: the only Errors come from samples that are alternatives to each other, or need run-time objects', async () => {
  // Several files define the same VirtualService or DestinationRule (they are alternatives); the later file wins, so
  // virtual-service-details-v2.yaml's subset v2 is missing from the `details` rule of fault-injection-details-v1.yaml.
  const loaded = await loadPaths([samples]);
  const ds = analyzeResources(loaded.resources, { loadErrors: loaded.errors, mode: 'local' }).diagnostics;
  assert.deepEqual(errors(ds), [...EXPECTED_ERRORS['bookinfo/networking/certmanager-gateway.yaml']!, 'IST0101 VirtualService default/details: Referenced host+subset in destinationrule not found: "details+v2"']);
});
