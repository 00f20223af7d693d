// The injection webhook registered with a genuine kube-apiserver (HTTPS, its CA bundle in the
// MutatingWebhookConfiguration it applies): pods created with `kubectl apply` come back with Istio's sidecar when the
// namespace label, the member roll and the pod's annotations say so, and unchanged otherwise.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CaServer, requestCertificate } from '../../ca/ca-api.js';
import { CertificateAuthority, createCsr } from '../../ca/ca.js';
import { TokenReviewAuthenticator } from '../auth/token-review.js';
import { KubeClient } from '../client/kube-client.js';
import { installCrds } from '../install-crds.js';
import { KubernetesStore } from '../kubernetes-store.js';
import { TestCluster, testClusterUnavailable } from '../testing/test-cluster.js';
import { InjectionWebhook, registerWebhook } from './injection-webhook.js';
import { until } from '../testing/until.js';

const skip = await testClusterUnavailable();

interface PodJson {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }> }>; initContainers?: Array<{ name: string }>; volumes?: Array<{ name: string; projected?: { sources: Array<{ serviceAccountToken?: { audience: string } }> } }> };
}

const podYaml = (name: string, namespace: string, annotations = '{}') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}, version: v1}, annotations: ${annotations}}
spec:
  # Set by the ServiceAccount admission plugin on a real cluster (the test cluster runs without it): the projected
  # istio-token volume needs it.
  serviceAccountName: default
  containers:
  - {name: app, image: docker.io/istio/examples-bookinfo-ratings-v1:1.17.0, ports: [{containerPort: 9080}]}
`;

describe('sidecar injection webhook', { skip }, () => {
  let cluster: TestCluster;
  let client: KubeClient;
  let store: KubernetesStore;
  let webhook: InjectionWebhook;
  const log: string[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'trellis-webhook-ca-'));
  const kubectlPod = (namespace: string, name: string) => JSON.parse(cluster.kubectl(['get', 'pod', name, '-n', namespace, '-o', 'json'])) as PodJson;
  const injected = (pod: PodJson) => pod.spec.containers.some((c) => c.name === 'istio-proxy');
  const namespaceLabels = (ns: string) => store.list().find((r) => r.kind === 'Namespace' && r.metadata.name === ns)?.metadata.labels ?? {};

  before(async () => {
    cluster = await TestCluster.start();
    client = await KubeClient.fromKubeconfig(cluster.kubeconfig);
    await installCrds(client);
    store = await KubernetesStore.open({ client, log: () => {} });
    const ca = await CertificateAuthority.open({ stateDir });
    webhook = await InjectionWebhook.listen({ store, tls: await ca.serverCertificate(['127.0.0.1']), log: (l) => log.push(l) }, '127.0.0.1', 0);
    await registerWebhook(client, { url: `https://127.0.0.1:${webhook.port}`, caBundle: ca.trustBundle() });
  });

  after(async () => {
    await webhook?.close();
    await store?.close();
    client?.close();
    await cluster?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('kubectl apply in a namespace labelled istio-injection=enabled gets Istio\'s sidecar; an opted-out pod and an unlabelled namespace do not', async () => {
    const webhookConfig = JSON.parse(cluster.kubectl(['get', 'mutatingwebhookconfiguration', 'istio-sidecar-injector', '-o', 'json'])) as { webhooks: Array<{ clientConfig: { caBundle: string } }> };
    assert.match(Buffer.from(webhookConfig.webhooks[0]!.clientConfig.caBundle, 'base64').toString(), /BEGIN CERTIFICATE/, 'the CA bundle is patched in');
    cluster.kubectl(['create', 'namespace', 'shop']);
    cluster.kubectl(['label', 'namespace', 'shop', 'istio-injection=enabled']);
    cluster.kubectl(['create', 'namespace', 'plain']);
    await until('the store sees the label', () => namespaceLabels('shop')['istio-injection'] === 'enabled');

    await cluster.kubectlAsync(['apply', '-f', '-'], podYaml('ratings', 'shop'));
    const pod = kubectlPod('shop', 'ratings');
    assert.deepEqual(pod.spec.containers.map((c) => c.name), ['app', 'istio-proxy']);
    assert.deepEqual(pod.spec.initContainers?.map((c) => c.name), ['istio-init']);
    const status = JSON.parse(pod.metadata.annotations?.['sidecar.istio.io/status'] ?? '{}') as { volumes?: string[] };
    assert.deepEqual(status.volumes, pod.spec.volumes?.map((v) => v.name).filter((n) => status.volumes!.includes(n)));
    assert.equal(pod.spec.volumes?.find((v) => v.name === 'istio-token')?.projected?.sources[0]?.serviceAccountToken?.audience, 'istio-ca');
    assert.equal(pod.metadata.labels?.['security.istio.io/tlsMode'], 'istio');
    assert.equal(pod.metadata.labels?.['service.istio.io/canonical-name'], 'ratings');
    assert.equal(pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'], 'app');
    assert.equal(pod.spec.containers[1]!.env?.find((e) => e.name === 'CA_ADDR')?.value, 'istiod.istio-system.svc:15012');

    await cluster.kubectlAsync(['apply', '-f', '-'], podYaml('batch', 'shop', '{sidecar.istio.io/inject: "false"}'));
    assert.equal(injected(kubectlPod('shop', 'batch')), false, 'the pod annotation opts out');
    await cluster.kubectlAsync(['apply', '-f', '-'], podYaml('ratings', 'plain'));
    assert.equal(injected(kubectlPod('plain', 'ratings')), false, 'an unlabelled namespace is not injected');
    assert.ok(log.some((l) => /shop\/batch not injected: .*sidecar\.istio\.io\/inject/.test(l)), log.join('\n'));
  });

  test('a multi-tenant member roll: member pods that opt in are injected, pointed at their control plane', async () => {
    cluster.kubectl(['create', 'namespace', 'mesh-system']);
    cluster.kubectl(['create', 'namespace', 'members']);
    // OpenShift Service Mesh's member roll controller labels its members; Trellis does not write that label yet.
    cluster.kubectl(['label', 'namespace', 'members', 'maistra.io/member-of=mesh-system']);
    cluster.kubectl(['apply', '-f', '-'], `apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: mesh-system}
spec: {version: v2.4}
---
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata: {name: default, namespace: mesh-system}
spec: {members: [members]}
`);
    await until('the store sees the member roll', () => store.list().some((r) => r.kind === 'ServiceMeshMemberRoll') && namespaceLabels('members')['maistra.io/member-of'] === 'mesh-system');

    await cluster.kubectlAsync(['apply', '-f', '-'], podYaml('opted-in', 'members', '{sidecar.istio.io/inject: "true"}'));
    const pod = kubectlPod('members', 'opted-in');
    assert.ok(injected(pod), log.join('\n'));
    assert.equal(pod.spec.containers[1]!.env?.find((e) => e.name === 'CA_ADDR')?.value, 'istiod.mesh-system.svc:15012');
    assert.equal(JSON.parse(pod.metadata.annotations!['sidecar.istio.io/status']!).revision, 'basic');

    await cluster.kubectlAsync(['apply', '-f', '-'], podYaml('no-annotation', 'members'));
    assert.equal(injected(kubectlPod('members', 'no-annotation')), false, 'multi-tenant members inject only pods that ask');
  });

  test('the CA accepts a pod\'s istio-ca service-account token (TokenReview) and signs its SPIFFE identity; other tokens are refused', async () => {
    cluster.kubectl(['create', 'serviceaccount', 'reviews', '-n', 'shop']);
    // What the kubelet does for the injected istio-token volume: a TokenRequest for audience istio-ca.
    const token = async (audience: string) =>
      (await client.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/shop/serviceaccounts/reviews/token', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [audience], expirationSeconds: 3600 } } })).status.token;
    const ca = await CertificateAuthority.open({ stateDir });
    const server = new CaServer({ signer: ca, authenticator: new TokenReviewAuthenticator(client), tls: await ca.serverCertificate(['127.0.0.1']) });
    const port = await server.listen('127.0.0.1', 0);
    try {
      const reviews = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'reviews' };
      const ask = async (bearer: string) => requestCertificate({ address: `127.0.0.1:${port}`, rootPem: ca.trustBundle(), token: bearer, csrPem: (await createCsr(reviews)).csrPem, ttlSeconds: 3600 });
      const chain = await ask(await token('istio-ca'));
      assert.equal(new X509Certificate(chain[0]!).subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/reviews');
      await assert.rejects(ask(await token('https://kubernetes.default.svc')), /UNAUTHENTICATED/, 'a token for another audience');
      await assert.rejects(ask('not-a-token'), /UNAUTHENTICATED/);
      const other = await new TokenReviewAuthenticator(client).authenticate(await token('istio-ca'));
      assert.deepEqual(other, reviews);
    } finally {
      await server.close();
    }
  });
});
