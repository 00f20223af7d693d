// Encoding shared across proxies and pushes: field-by-field encoding equals whole-message encoding, shallow copies
// and unchanged content reuse bytes, and one encoded response per selection of a shared list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeToJson, encodeJson, encodeJsonSharingFields, nextEncodingGeneration } from './codec.js';
import { encodedSet, namesKey, selectionDiff, WILDCARD } from './encoded-set.js';
import { encodeResource, nextEncodingGeneration as nextResourceGeneration } from './wire.js';
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

test('a rebuilt cluster with equal content is the encoded resource of the previous push; a changed one is encoded anew', () => {
  const cluster = (timeout: string): XdsResource => ({ typeUrl: TypeUrl.Cluster, name: 'outbound|9080||reviews', value: { name: 'outbound|9080||reviews', type: 'EDS', connectTimeout: timeout } });
  nextResourceGeneration();
  const first = encodeResource(cluster('1s'));
  nextResourceGeneration();
  const again = encodeResource(cluster('1s'));
  assert.equal(again, first, 'new objects with equal content: the same encoding, not encoded again');
  const changed = encodeResource(cluster('2s'));
  assert.notEqual(changed.hash, first.hash);
  assert.deepEqual(Buffer.from(changed.bytes), Buffer.from(encodeJson(TypeUrl.Cluster, cluster('2s').value as Record<string, unknown>)));
  // Unused for a whole push: forgotten (a new encoding with equal bytes).
  nextResourceGeneration();
  nextResourceGeneration();
  const later = encodeResource(cluster('1s'));
  assert.notEqual(later, first);
  assert.deepEqual(Buffer.from(later.bytes), Buffer.from(first.bytes));
});

test('the delta diff between two selections: what changed or appeared, what went away; computed once per pair', () => {
  const r = (name: string, timeout = '1s'): XdsResource => ({ typeUrl: TypeUrl.Cluster, name, value: { name, type: 'STATIC', connectTimeout: timeout } });
  const before = encodedSet([r('a'), r('b'), r('c')]).select(WILDCARD, []);
  const after = encodedSet([r('a'), r('b', '2s'), r('d')]).select(WILDCARD, []);
  const diff = selectionDiff(before, after);
  assert.deepEqual(diff.changed.map((x) => x.name), ['b', 'd']);
  assert.deepEqual(diff.removed, ['c']);
  assert.equal(selectionDiff(before, after), diff, 'every stream of a shape gets the same diff object');
  assert.deepEqual(selectionDiff(after, after), { changed: [], removed: [] });
});
