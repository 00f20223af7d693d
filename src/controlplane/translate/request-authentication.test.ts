// RequestAuthentication end to end: JWT rules translated by the control plane, enforced by a real Trellis proxy, with
// keys generated here and tokens signed here; the JWKS comes inline or from a real HTTP server (jwksUri), fetched by
// the control plane's resolver. Then AuthorizationPolicy rules on request principals and claims.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type CryptoKey } from 'jose';
import { loadText } from '../../config/loader.js';
import type { Resource } from '../../config/resource.js';
import type { Listener, TypedExtension } from '../../xds/envoy/index.js';
import { cla, defaultHttpFilters, edsCluster, request, routeConfig, routeTo, startProxy, startUpstream, T, vhost, type Upstream } from '../../proxy/testing.js';
import type { TrellisProxy } from '../../proxy/proxy.js';
import { JwksResolver } from '../jwks/jwks-resolver.js';
import { authorizationFiltersOf, requestAuthenticationFiltersOf } from './testing.js';

const ISSUER = 'testing@secure.istio.io';
const LABELS = { app: 'httpbin' };

let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
let stranger: { privateKey: CryptoKey; publicKey: CryptoKey };
let jwksText: string;
let jwksServer: http.Server;
let jwksUrl: string;
let jwksServed = 0;
let app: Upstream;
let proxy: TrellisProxy;
let port: (name: string) => number;
const listeners: Listener[] = [];

function resources(yaml: string): Resource[] {
  const { resources: rs, errors } = loadText(yaml, 'policy.yaml');
  assert.deepEqual(errors, []);
  return rs;
}

function listener(name: string, filters: TypedExtension[]): Listener {
  const hcm = { '@type': T.hcm, statPrefix: name, routeConfig: routeConfig(name, [vhost(name, ['*'], [routeTo('app')])]), httpFilters: [...filters, ...defaultHttpFilters()] };
  return { name, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: hcm }] }] } as Listener;
}

/** Translate the YAML for the httpbin workload and add a listener with the result. */
function addListener(name: string, yaml: string, jwks?: JwksResolver): void {
  const rs = resources(yaml);
  listeners.push(listener(name, [...requestAuthenticationFiltersOf(rs, { namespace: 'foo', labels: LABELS }, jwks), ...authorizationFiltersOf(rs, { namespace: 'foo', labels: LABELS })]));
}

async function token(claims: JWTPayload = {}, opts: { key?: CryptoKey; alg?: string; kid?: string; exp?: string | number; iss?: string } = {}): Promise<string> {
  let jwt = new SignJWT({ sub: 'testing@secure.istio.io', ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: opts.kid ?? 'rsa' })
    .setIssuer(opts.iss ?? ISSUER)
    .setIssuedAt();
  jwt = jwt.setExpirationTime(opts.exp ?? '1h');
  return jwt.sign(opts.key ?? rsa.privateKey);
}

const ra = (name: string, rule: string) => `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ${name}, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin}}
  jwtRules:
  - ${rule}
---
`;
const ap = (name: string, spec: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: foo}
spec: ${spec}
---
`;

before(async () => {
  rsa = await generateKeyPair('RS256');
  ec = await generateKeyPair('ES256');
  stranger = await generateKeyPair('RS256');
  jwksText = JSON.stringify({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256', use: 'sig' }, { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256', use: 'sig' }] });
  jwksServer = http.createServer((req, res) => {
    jwksServed++;
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer: jwksUrl, jwks_uri: `${jwksUrl}/keys` }));
    res.end(jwksText);
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
  app = await startUpstream('httpbin');
  const inline = JSON.stringify(jwksText);
  addListener('inline', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}}`));
  addListener('audiences', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}, audiences: [bookstore, "shelf"]}`));
  addListener('forward', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}, forwardOriginalToken: true, outputPayloadToHeader: x-jwt-payload, outputClaimToHeaders: [{header: x-jwt-group, claim: group}]}`));
  addListener('locations', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}, fromHeaders: [{name: x-jwt-assertion, prefix: "Token "}], fromParams: [my_token]}`));
  addListener('require-jwt', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}}`) + ap('require', '{action: ALLOW, rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]}'));
  addListener('principal', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}}`) + ap('p', `{rules: [{from: [{source: {requestPrincipals: ["${ISSUER}/testing@secure.istio.io"]}}]}]}`));
  addListener('not-principal', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}}`) + ap('p', `{action: DENY, rules: [{from: [{source: {notRequestPrincipals: ["*"]}}]}]}`));
  addListener('claims', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}}`) + ap('p', '{rules: [{when: [{key: "request.auth.claims[groups]", values: ["group1"]}, {key: "request.auth.claims[nested][level]", values: ["gold"]}]}]}'));
  addListener('audience-condition', ra('jwt', `{issuer: "${ISSUER}", jwks: ${inline}}`) + ap('p', '{rules: [{when: [{key: request.auth.audiences, values: ["bookstore"]}, {key: request.auth.presenter, values: ["web-*"]}]}]}'));
  const started = await startProxy({ listeners, clusters: [edsCluster('app')], endpoints: [cla('app', [{ port: app.port }])] });
  proxy = started.proxy;
  port = started.port;
});

after(async () => {
  await proxy?.close();
  await app?.close();
  jwksServer?.close();
});

const get = (listenerName: string, headers: Record<string, string> = {}, path = '/headers') => request(port(listenerName), { path, headers });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('RequestAuthentication: which tokens pass', () => {
  test('no token passes (authorization decides); a valid token passes; RS256 and ES256 keys from one JWKS', async () => {
    assert.equal((await get('inline')).status, 200);
    assert.equal((await get('inline', bearer(await token()))).status, 200);
    assert.equal((await get('inline', bearer(await token({}, { key: ec.privateKey, alg: 'ES256', kid: 'ec' })))).status, 200);
  });

  test('invalid tokens get 401 with Envoy\'s reasons and never reach the workload', async () => {
    const seen = app.requests.length;
    const cases: Array<[string, string]> = [
      [await token({}, { exp: Math.floor(Date.now() / 1000) - 3600 }), 'Jwt is expired'],
      [await token({}, { iss: 'someone-else' }), 'Jwt issuer is not configured'],
      [await token({}, { key: stranger.privateKey }), 'Jwt verification fails'],
      [await token({}, { kid: 'unknown', key: stranger.privateKey }), "Jwks doesn't have key to match kid or alg from Jwt"],
      ['not-a-jwt', 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
    ];
    for (const [t, reason] of cases) {
      const res = await get('inline', bearer(t));
      assert.equal(res.status, 401, reason);
      assert.equal(res.body, reason);
      assert.match(String(res.headers['www-authenticate']), /^Bearer realm="http:\/\/.*\/headers", error="invalid_token"$/);
    }
    assert.equal(app.requests.length, seen);
  });

  test('audiences: a token for another audience gets 401', async () => {
    assert.equal((await get('audiences', bearer(await token({ aud: 'shelf' })))).status, 200);
    const res = await get('audiences', bearer(await token({ aud: 'other' })));
    assert.equal(res.status, 401);
    assert.equal(res.body, 'Audiences in Jwt are not allowed');
  });

  test('the token is removed before the workload unless forwardOriginalToken; payload and claims go to headers', async () => {
    await get('inline', bearer(await token()));
    assert.equal(app.requests.at(-1)!.headers.authorization, undefined);
    const t = await token({ group: 'admins' });
    await get('forward', bearer(t));
    const h = app.requests.at(-1)!.headers;
    assert.equal(h.authorization, `Bearer ${t}`);
    assert.equal(h['x-jwt-group'], 'admins');
    assert.equal((JSON.parse(Buffer.from(String(h['x-jwt-payload']), 'base64url').toString()) as JWTPayload).iss, ISSUER);
  });

  test('fromHeaders with a prefix and fromParams; the default Authorization header is then not read', async () => {
    const t = await token();
    assert.equal((await get('locations', { 'x-jwt-assertion': `Token ${t}` })).status, 200);
    assert.equal((await get('locations', {}, `/headers?my_token=${t}`)).status, 200);
    assert.equal((await get('locations', { 'x-jwt-assertion': 'Token garbage' })).status, 401);
    assert.equal((await get('locations', {}, '/headers?my_token=garbage')).status, 401);
    // A bad token where this rule does not look is not a token at all for it.
    assert.equal((await get('locations', bearer('garbage'))).status, 200);
    assert.equal((await get('inline', {}, `/headers?access_token=${t}`)).status, 200);
    assert.equal((await get('inline', {}, '/headers?access_token=garbage')).status, 401);
  });
});

describe('AuthorizationPolicy on request principals and claims', () => {
  test('requestPrincipals ["*"] requires a valid token (403 without, 401 with a bad one)', async () => {
    assert.equal((await get('require-jwt')).status, 403);
    assert.equal((await get('require-jwt', bearer('garbage'))).status, 401);
    assert.equal((await get('require-jwt', bearer(await token()))).status, 200);
  });

  test('requestPrincipals iss/sub, and DENY notRequestPrincipals', async () => {
    assert.equal((await get('principal', bearer(await token()))).status, 200);
    assert.equal((await get('principal', bearer(await token({ sub: 'someone' })))).status, 403);
    assert.equal((await get('not-principal')).status, 403);
    assert.equal((await get('not-principal', bearer(await token()))).status, 200);
  });

  test('request.auth.claims with a list claim and a nested claim; audiences and presenter', async () => {
    assert.equal((await get('claims', bearer(await token({ groups: ['group1', 'group2'], nested: { level: 'gold' } })))).status, 200);
    assert.equal((await get('claims', bearer(await token({ groups: ['group2'], nested: { level: 'gold' } })))).status, 403);
    assert.equal((await get('claims', bearer(await token({ groups: ['group1'], nested: { level: 'silver' } })))).status, 403);
    assert.equal((await get('audience-condition', bearer(await token({ aud: ['bookstore', 'x'], azp: 'web-app' })))).status, 200);
    assert.equal((await get('audience-condition', bearer(await token({ aud: 'x', azp: 'web-app' })))).status, 403);
  });
});

describe('jwksUri and OpenID discovery, fetched by the control plane', () => {
  test('until the JWKS is fetched every token fails; once fetched, tokens verify', async () => {
    const resolver = new JwksResolver({ log: () => {} });
    try {
      const yaml = ra('jwt', `{issuer: "${ISSUER}", jwksUri: "${jwksUrl}/keys"}`);
      const fetched = new Promise<void>((resolve) => resolver.once('change', () => resolve()));
      const before = requestAuthenticationFiltersOf(resources(yaml), { namespace: 'foo', labels: LABELS }, resolver);
      assert.match(JSON.stringify(before), /\\"keys\\":\[\]/, 'an unknown JWKS is inlined as one that verifies nothing');
      await fetched;
      const after = requestAuthenticationFiltersOf(resources(yaml), { namespace: 'foo', labels: LABELS }, resolver);
      await proxy.apply({ listeners: [...listeners, listener('uri-before', before), listener('uri-after', after)], clusters: [edsCluster('app')], endpoints: [cla('app', [{ port: app.port }])] });
      const t = await token();
      assert.equal((await get('uri-before', bearer(t))).status, 401);
      assert.equal((await get('uri-after', bearer(t))).status, 200);
      // Without jwks or jwksUri the issuer's OpenID configuration names the key set.
      const discovered = new Promise<void>((resolve) => resolver.once('change', () => resolve()));
      const served = jwksServed;
      assert.equal(resolver.jwks(undefined, jwksUrl), undefined);
      await discovered;
      assert.equal(resolver.jwks(undefined, jwksUrl), jwksText);
      assert.ok(jwksServed >= served + 2, 'the discovery document, then the key set');
    } finally {
      resolver.close();
    }
  });
});
