import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { istioDurationMs, istioToProtoDuration, msToProtoDuration, parseProtoDuration, protoDurationMs } from './duration.js';

describe('durations', () => {
  it('reads Istio (Go) forms, compound ones included', () => {
    assert.equal(istioDurationMs('1m30s'), 90_000);
    assert.equal(istioDurationMs('1h0m0.5s'), 3_600_500);
    assert.equal(istioDurationMs('500ms'), 500);
    assert.equal(istioDurationMs('1.5h'), 5_400_000);
    assert.equal(istioDurationMs('2us'), 0.002);
    assert.equal(istioDurationMs('2µs'), 0.002);
    assert.equal(istioDurationMs('10ns'), 0.00001);
    assert.equal(istioDurationMs('.5s'), 500);
    assert.equal(istioDurationMs('0'), 0);
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['', '10', '-1s', '1d', '1 s', 's', '1m30', '1.2.3s', 'abc']) assert.equal(istioDurationMs(bad), undefined, bad);
  });

  it('writes proto3 JSON exactly', () => {
    assert.equal(istioToProtoDuration('1m30s'), '90s');
    assert.equal(istioToProtoDuration('1h0m0.5s'), '3600.5s');
    assert.equal(istioToProtoDuration('500ms'), '0.5s');
    assert.equal(istioToProtoDuration('0.1s'), '0.1s');
    assert.equal(istioToProtoDuration('1ns'), '0.000000001s');
    assert.equal(istioToProtoDuration('bad'), undefined);
    assert.equal(istioToProtoDuration(undefined), undefined);
    assert.equal(msToProtoDuration(90_000), '90s');
    assert.equal(msToProtoDuration(0.5), '0.0005s');
    assert.equal(msToProtoDuration(-1), '-0.001s');
  });

  it('reads proto3 JSON and the object form', () => {
    assert.deepEqual(parseProtoDuration('1.5s'), { seconds: '1', nanos: 500_000_000 });
    assert.deepEqual(parseProtoDuration('-0.25s'), { seconds: '-0', nanos: -250_000_000 });
    assert.equal(parseProtoDuration('1m'), undefined);
    assert.equal(protoDurationMs('90s'), 90_000);
    assert.equal(protoDurationMs('0.010s'), 10);
    assert.equal(protoDurationMs({ seconds: '2', nanos: 500_000_000 }), 2500);
    assert.equal(protoDurationMs('10ms'), undefined);
  });

  it('round-trips: Istio → proto3 → milliseconds', () => {
    for (const d of ['1m30s', '1h0m0.5s', '500ms', '15s', '2.5ms', '1h']) assert.equal(protoDurationMs(istioToProtoDuration(d)!), istioDurationMs(d), d);
  });
});
