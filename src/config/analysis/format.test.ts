// Tests of analysis output: istioctl-shaped text with positions, and the JSON/YAML record shape scripts rely on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { displayPath, type Diagnostic } from '../diagnostics.js';
import { formatText, render } from './format.js';

const d: Diagnostic = {
  code: 'IST0101',
  name: 'ReferencedResourceNotFound',
  level: 'Error',
  message: 'Referenced host not found: "reviews2"',
  resource: { kind: 'VirtualService', namespace: 'default', name: 'reviews' },
  field: '/spec/http/0/route/0/destination/host',
  file: 'samples/vs.yaml',
  line: 12,
  column: 9,
  analyzer: 'virtualservice.DestinationHostAnalyzer',
};

test('text output follows istioctl with the position added', () => {
  assert.equal(formatText(d), 'Error [IST0101] (VirtualService default/reviews samples/vs.yaml:12:9) Referenced host not found: "reviews2"');
  assert.equal(formatText({ code: 'TRL0001', name: 'ConfigFileNotFound', level: 'Error', message: 'no such file or directory', file: 'x.yaml' }), 'Error [TRL0001] (x.yaml) no such file or directory');
  assert.equal(formatText({ ...d, resource: { kind: 'Namespace', namespace: '', name: 'bookinfo' } }).startsWith('Error [IST0101] (Namespace bookinfo samples'), true);
});

test('JSON and YAML outputs are lists of {code, level, message, resource, file, line, column, analyzer}', () => {
  const json = JSON.parse(render([d], 'json', displayPath));
  assert.deepEqual(json, [
    {
      code: 'IST0101',
      name: 'ReferencedResourceNotFound',
      level: 'Error',
      message: 'Referenced host not found: "reviews2"',
      resource: { kind: 'VirtualService', namespace: 'default', name: 'reviews' },
      field: 'spec.http[0].route[0].destination.host',
      file: 'samples/vs.yaml',
      line: 12,
      column: 9,
      analyzer: 'virtualservice.DestinationHostAnalyzer',
    },
  ]);
  assert.deepEqual(parse(render([d], 'yaml', displayPath)), json);
  assert.deepEqual(JSON.parse(render([], 'json', displayPath)), []);
  assert.deepEqual(parse(render([], 'yaml', displayPath)), []);
});

test('field pointers read as people write paths', () => {
  assert.equal(displayPath('/spec/http/0/match/0/headers/end-user/exact'), 'spec.http[0].match[0].headers.end-user.exact');
  assert.equal(displayPath('/metadata/annotations/sidecar.istio.io~1inject'), 'metadata.annotations["sidecar.istio.io/inject"]');
  assert.equal(displayPath(''), '');
});
