// Encoding shared across proxies and pushes: field-by-field encoding equals whole-message encoding, shallow copies
// and unchanged content reuse bytes, and one encoded response per selection of a shared list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeToJson, encodeJson, encodeJsonSharingFields, nextEncodingGeneration } from './codec.js';
import { encodedSet, namesKey, WILDCARD } from './encoded-set.js';
import { TypeUrl, type XdsResource } from './resource.js';

const virtualHosts = [
  { name: 'reviews:9080', domains: ['reviews', 'reviews:9080'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'outbound|9080||reviews', timeout: '0s' } }] },
  { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }] },
];
const headers = (peer: string) => [{ header: { key: 'x-envoy-peer-metadata', value: peer }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }];
// Keys deliberately out of field-number order: the bytes must still be protobufjs's (fields sorted by number).
const route = (peer: string) => ({ requestHeadersToAdd: headers(peer), virtualHosts, name: '9080', validateClusters: false });

test('field-by-field encoding gives the same bytes as encoding the whole message', () => {
  const shared = encodeJsonSharingFields(TypeUrl.RouteConfiguration, route('a'));
  assert.deepEqual(Buffer.from(shared), Buffer.from(encodeJson(TypeUrl.RouteConfiguration, route('a'))));
  const back = decodeToJson(TypeUrl.RouteConfiguration, shared) as Record<string, unknown>;
  assert.equal(back.name, '9080');
  assert.deepEqual((back.requestHeadersToAdd as Array<{ header: { value: string } }>)[0]!.header.value, 'a');
  // Shallow copies that differ in one field: each gets its own bytes for that field, the same for the rest.
  assert.deepEqual(Buffer.from(encodeJsonSharingFields(TypeUrl.RouteConfiguration, route('b'))), Buffer.from(encodeJson(TypeUrl.RouteConfiguration, route('b'))));
});

test('content encoded in the previous push is reused; content unused for a whole push is forgotten', () => {
  nextEncodingGeneration();
  const first = encodeJsonSharingFields(TypeUrl.RouteConfiguration, structuredClone(route('a')));
  nextEncodingGeneration();
  // New objects with equal content (what a rebuilt config looks like): equal bytes.
  const again = encodeJsonSharingFields(TypeUrl.RouteConfiguration, structuredClone(route('a')));
  assert.deepEqual(Buffer.from(again), Buffer.from(first));
  nextEncodingGeneration();
  nextEncodingGeneration();
  assert.deepEqual(Buffer.from(encodeJsonSharingFields(TypeUrl.RouteConfiguration, structuredClone(route('a')))), Buffer.from(first));
});

test('a field the type does not have is still reported with its path', () => {
  assert.throws(() => encodeJsonSharingFields(TypeUrl.RouteConfiguration, { name: 'x', virtualHostz: [] }, '9080'), /9080\.virtualHostz: .*has no field "virtualHostz"/);
});

test('one list, encoded once: selections by subscription are shared and keep their response', () => {
  const r = (name: string): XdsResource => ({ typeUrl: TypeUrl.Cluster, name, value: { name, type: 'STATIC', connectTimeout: '1s' } });
  const list = [r('b'), r('a'), r('c')];
  const set = encodedSet(list);
  assert.equal(encodedSet(list), set, 'the same list is the same encoded set');
  const all = set.select(WILDCARD, []);
  assert.deepEqual(all.resources.map((x) => x.name), ['b', 'a', 'c']);
  const named = set.select(namesKey(['c', 'a', 'zz']), ['c', 'a', 'zz']);
  assert.deepEqual(named.resources.map((x) => x.name), ['a', 'c'], 'only names that exist, in name order');
  assert.equal(set.select(namesKey(['a', 'zz', 'c']), ['a', 'zz', 'c']), named, 'the same names in another order: the same selection');
  assert.notEqual(named.version, all.version);
});
