// The sidecar injection webhook (istiod's role on port 15017): an HTTPS server the API server calls with an
// AdmissionReview for every pod it selects, answering with the JSON Patch of Istio's sidecar when the mesh topology
// (namespace labels, member rolls, the pod's own labels and annotations) says the pod joins the mesh; and the
// MutatingWebhookConfiguration it owns, applied with the CA bundle that signed its serving certificate.

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { meshTopologyOf } from '../../config/mesh-topology.js';
import type { ConfigStore } from '../../controlplane/store/config-store.js';
import type { KubeClient } from '../client/kube-client.js';
import { injectionPatch, STATUS_ANNOTATION, type PodObject } from './sidecar-template.js';

/** Istio's proxy image; an OpenShift Service Mesh install passes its own. */
export const DEFAULT_PROXY_IMAGE = 'docker.io/istio/proxyv2:1.16.7';
export const INJECT_PATH = '/inject';

export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request?: { uid: string; kind?: { group: string; version: string; kind: string }; namespace?: string; operation?: string; object?: PodObject };
  response?: AdmissionResponse;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** base64 of the JSON Patch. */
  patch?: string;
  status?: { message: string };
}

export interface InjectionWebhookOptions {
  /** Where the topology comes from (Namespaces, SMCP, SMMR, SMM): the Kubernetes store. */
  store: ConfigStore;
  tls: { cert: string; key: string };
  image?: string;
  log?: (line: string) => void;
}

export class InjectionWebhook {
  private constructor(
    private readonly o: InjectionWebhookOptions,
    private readonly server: https.Server,
  ) {}

  static async listen(o: InjectionWebhookOptions, host: string, port: number): Promise<InjectionWebhook> {
    const server = https.createServer({ cert: o.tls.cert, key: o.tls.key });
    const hook = new InjectionWebhook(o, server);
    server.on('request', (req, res) => {
      if (req.method !== 'POST' || req.url?.split('?')[0] !== INJECT_PATH) {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let review: AdmissionReview;
        try {
          review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
        } catch {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('not an AdmissionReview');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response: hook.review(review) }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return hook;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The answer to one review: always allowed (a pod is never refused for the mesh's sake), patched when injected. */
  review(review: AdmissionReview): AdmissionResponse {
    const req = review.request;
    const uid = req?.uid ?? '';
    const pod = req?.object;
    if (!req || !pod || req.kind?.kind !== 'Pod' || (req.operation && req.operation !== 'CREATE')) return { uid, allowed: true };
    const namespace = req.namespace ?? pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? `${pod.metadata?.generateName ?? ''}*`;
    const skip = (why: string): AdmissionResponse => {
      this.log(`injection: ${namespace}/${name} not injected: ${why}`);
      return { uid, allowed: true };
    };
    if (pod.metadata?.annotations?.[STATUS_ANNOTATION]) return skip('already injected');
    if (pod.spec?.hostNetwork === true) return skip('host network');
    const topology = meshTopologyOf(this.o.store.list());
    // trellis up injects everything when nothing is labelled; on a cluster, as in Istio, only what asks for it.
    if (topology.meshEverything) return skip('no namespace or pod is labelled for injection');
    const decision = topology.injection(namespace, pod.metadata?.labels ?? {}, pod.metadata?.annotations ?? {});
    if (!decision.inject) return skip(decision.reason);
    const plane = decision.controlPlane;
    let patch;
    try {
      patch = injectionPatch({ ...pod, metadata: { ...pod.metadata, namespace } }, { controlPlaneNamespace: plane?.namespace ?? 'istio-system', image: this.o.image ?? DEFAULT_PROXY_IMAGE, revision: plane?.smcp ? plane.name : 'default' });
    } catch (err) {
      // A bad traffic.sidecar.istio.io/* annotation: refuse the pod with why, as Istio's injector does.
      return { uid, allowed: false, status: { message: `sidecar injection of ${namespace}/${name}: ${(err as Error).message}` } };
    }
    this.log(`injection: ${namespace}/${name} injected (${decision.reason})`);
    return { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
  }

  private log(line: string): void {
    (this.o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

export interface WebhookRegistration {
  /** The MutatingWebhookConfiguration's name (Istio's: istio-sidecar-injector). */
  name?: string;
  caBundle: string;
  /** How the API server reaches the webhook: a URL (outside the cluster), or istiod's Service in this namespace. */
  url?: string;
  serviceNamespace?: string;
  /** istiod's Service (OpenShift Service Mesh's: istiod-<smcp>). */
  serviceName?: string;
}

const rules = [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }];

/**
 * The MutatingWebhookConfiguration, as Istio's: pods in namespaces labelled istio-injection=enabled, pods labelled
 * sidecar.istio.io/inject=true elsewhere, and (OpenShift Service Mesh) pods in namespaces a member roll labelled
 * maistra.io/member-of. The webhook itself makes the final decision from the topology.
 */
export function webhookConfiguration(r: WebhookRegistration): Record<string, unknown> {
  const clientConfig = {
    ...(r.url ? { url: `${r.url.replace(/\/$/, '')}${INJECT_PATH}` } : { service: { name: r.serviceName ?? 'istiod', namespace: r.serviceNamespace ?? 'istio-system', path: INJECT_PATH, port: 443 } }),
    caBundle: Buffer.from(r.caBundle).toString('base64'),
  };
  const hook = (name: string, selectors: Record<string, unknown>) => ({ name, clientConfig, rules, failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'], reinvocationPolicy: 'Never', timeoutSeconds: 10, ...selectors });
  const notDisabled = { key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: r.name ?? 'istio-sidecar-injector', labels: { app: 'sidecar-injector', 'app.kubernetes.io/part-of': 'trellis' } },
    webhooks: [
      hook('namespace.sidecar-injector.istio.io', { namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } }, objectSelector: { matchExpressions: [notDisabled] } }),
      hook('object.sidecar-injector.istio.io', {
        namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' }, { key: 'maistra.io/member-of', operator: 'DoesNotExist' }] },
        objectSelector: { matchLabels: { 'sidecar.istio.io/inject': 'true' } },
      }),
      hook('member.sidecar-injector.maistra.io', { namespaceSelector: { matchExpressions: [{ key: 'maistra.io/member-of', operator: 'Exists' }, { key: 'istio-injection', operator: 'DoesNotExist' }] }, objectSelector: { matchExpressions: [notDisabled] } }),
    ],
  };
}

/** Applies (server-side) the webhook configuration with the current CA bundle. */
export async function registerWebhook(client: KubeClient, r: WebhookRegistration): Promise<void> {
  const config = webhookConfiguration(r);
  const name = (config.metadata as { name: string }).name;
  await client.request('PATCH', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${name}`, { body: config, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'trellis', force: true } });
}
