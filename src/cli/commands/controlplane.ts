// `trellis controlplane`: the control plane on its own — a watched config directory, the xDS (ADS) server and the
// debug endpoints — for proxies started elsewhere (Trellis sidecars, proxyless gRPC, Envoy).

import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { caOptionSpecs, externalCaOptions } from '../ca-options.js';
import { UsageError, type Command } from '../command.js';
import { ControlPlane } from '../../controlplane/control-plane.js';
import { DebugServer } from '../../controlplane/debug/debug-server.js';
import { DirectoryStore } from '../../controlplane/store/directory-store.js';
import { openMeshCa, type MeshCa } from '../../ca/mesh-ca.js';
import { PORTS } from '../../ports.js';
import { openKubernetesSource } from '../../k8s/kubernetes-source.js';
import { DEFAULT_PROXY_IMAGE, INJECT_PATH, InjectionWebhook, registerWebhook } from '../../k8s/injection/injection-webhook.js';
import { CertificateAuthority } from '../../ca/ca.js';
import { ControlPlaneOperator } from '../../k8s/operator/control-plane-operator.js';
import { StatusWriter } from '../../k8s/status/status-writer.js';
import { TokenReviewAuthenticator } from '../../k8s/auth/token-review.js';
import { KubeClient } from '../../k8s/client/kube-client.js';

const USAGE = `Usage: trellis controlplane --config-dir DIR [options]
       trellis controlplane --kubeconfig FILE | --in-cluster [options]

Watches DIR (YAML: Istio, Gateway API, Kubernetes objects), or a Kubernetes API server, and serves xDS v3 (ADS, state
of the world and delta) to every proxy that connects. A change that fails validation is rejected with where it came
from (file:line, or the object's API path) and the last good config stays in force.

Options:
  --config-dir DIR      the watched configuration directory (created if missing)
  --kubeconfig FILE     read config and services from the API server of this kubeconfig's current context, and
                        write status back (Istio objects' validationMessages, Gateway API conditions)
  --in-cluster          the same from inside a pod (its service account and KUBERNETES_SERVICE_HOST)
  --namespace NS        the control plane's namespace (default istio-system): its ServiceMeshControlPlane, if any,
                        decides what is watched (a MultiTenant one: only its namespace and its members)
  --install-crds        apply the CRDs Trellis serves (Istio, Gateway API, Maistra) before watching
  --webhook-port N|off  Kubernetes mode: the sidecar injection webhook (HTTPS, default ${PORTS.injectionWebhook}); its
                        MutatingWebhookConfiguration istio-sidecar-injector is applied with the CA bundle
  --webhook-url URL     how the API server reaches the webhook (default: istiod's Service in --namespace with
                        --in-cluster, else https://BIND:PORT)
  --webhook-service N   istiod's Service that --in-cluster registers (default istiod)
  --operator            also run the operator loop: every ServiceMeshControlPlane's istiod Deployment, Service,
                        ServiceAccount and RBAC applied (see trellis install), SMCP/SMMR/SMM status written back
  --control-plane-image IMAGE   the image the operator's Deployments run
  --proxy-image IMAGE   the proxy image the webhook injects (default ${DEFAULT_PROXY_IMAGE})
  --xds-port N          plaintext xDS port (default ${PORTS.xds})
  --debug-port N        debug endpoints: /debug/syncz, /debug/config_dump?proxyID=… (default ${PORTS.controlPlaneMonitoring})
  --bind ADDR           address to listen on (default 127.0.0.1)
  --root-namespace NS   Istio's root namespace for mesh-wide config (default: the mesh config's, else the
                        control-plane namespace, istio-system)
  --outbound-policy P   ALLOW_ANY or REGISTRY_ONLY (default: the mesh config's, else ALLOW_ANY)
                        Both override the mesh config of the files (ServiceMeshControlPlane, \`istio\` ConfigMap).

Certificate authority (Istio's CA API over TLS; off unless --ca-port is given):
  --ca-port N           serve the CA API on N (Istio uses ${PORTS.xdsTls}); workloads authenticate with tokens signed by
                        STATE-DIR/ca/token-key (in Kubernetes mode: their istio-ca service-account token, by TokenReview); STATE-DIR/ca/root-cert.pem (the root of the API's own certificate)
                        is what proxies pass as --ca-root
  --state-dir DIR       what survives a restart: the self-signed root, the token key (default CONFIG-DIR/.trellis)
  --cacerts DIR         sign with a plugged-in CA: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem
  --external-ca-url URL sign with an external CA: cfssl's remote API (cfssl serve / multirootca), the
                        cert-manager / istio-csr model
  --external-ca-mode M  direct (cfssl signs every workload; needs a cfssl that issues URI SANs) or
                        intermediate (cfssl signs one CA certificate for the mesh, renewed at half-life)
  --external-ca-profile P          cfssl signing profile
  --external-ca-auth-key-file F    cfssl auth key (hex, as in its auth_keys): use /authsign with an HMAC token
  --external-ca-root F             the PKI's root, when cfssl signs with an intermediate`;

function port(v: string | undefined, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${name} must be a port number, not "${v}"`);
  return n;
}

export const controlplaneCommand: Command = {
  name: 'controlplane',
  usage: USAGE,
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          'config-dir': { type: 'string' },
          kubeconfig: { type: 'string' },
          'in-cluster': { type: 'boolean', default: false },
          namespace: { type: 'string', default: 'istio-system' },
          'install-crds': { type: 'boolean', default: false },
          'webhook-port': { type: 'string', default: String(PORTS.injectionWebhook) },
          'webhook-url': { type: 'string' },
          'webhook-service': { type: 'string', default: 'istiod' },
          operator: { type: 'boolean', default: false },
          'control-plane-image': { type: 'string' },
          'proxy-image': { type: 'string' },
          'xds-port': { type: 'string', default: String(PORTS.xds) },
          'debug-port': { type: 'string', default: String(PORTS.controlPlaneMonitoring) },
          bind: { type: 'string', default: '127.0.0.1' },
          'root-namespace': { type: 'string' },
          'outbound-policy': { type: 'string' },
          'ca-port': { type: 'string' },
          'state-dir': { type: 'string' },
          ...caOptionSpecs('direct'),
        },
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const dir = values['config-dir'];
    const kubernetes = values.kubeconfig !== undefined || values['in-cluster']!;
    if ([dir !== undefined, values.kubeconfig !== undefined, values['in-cluster']].filter(Boolean).length !== 1) {
      throw new UsageError('give one of --config-dir, --kubeconfig or --in-cluster');
    }
    const policy = values['outbound-policy'];
    if (policy !== undefined && policy !== 'ALLOW_ANY' && policy !== 'REGISTRY_ONLY') throw new UsageError('--outbound-policy must be ALLOW_ANY or REGISTRY_ONLY');
    const outbound: { mode: 'ALLOW_ANY' | 'REGISTRY_ONLY' } | undefined = policy ? { mode: policy } : undefined;
    if (dir) mkdirSync(dir, { recursive: true });
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const caStateDir = `${values['state-dir'] ?? (dir ? `${dir}/.trellis` : '.trellis')}/ca`;
    // The CA first: an external CA that cannot be reached fails the start before anything listens.
    let ca: MeshCa | undefined;
    let caLine = '';
    const caClient = kubernetes && values['ca-port'] !== undefined ? (values.kubeconfig ? await KubeClient.fromKubeconfig(values.kubeconfig) : await KubeClient.inCluster()) : undefined;
    if (values['ca-port'] !== undefined) {
      port(values['ca-port'], '--ca-port');
      ca = await openMeshCa({
        stateDir: caStateDir,
        pluggedIn: values.cacerts,
        externalCa: externalCaOptions(values),
        serverNames: ['istiod.istio-system.svc', values.bind!],
        // On Kubernetes, proxies prove who they are with their pod's istio-ca service-account token.
        ...(caClient ? { authenticator: new TokenReviewAuthenticator(caClient) } : {}),
        log,
      });
    } else if (values.cacerts || values['external-ca-url']) {
      throw new UsageError('--cacerts and --external-ca-url need --ca-port');
    }
    const source = kubernetes ? await openKubernetesSource({ kubeconfig: values.kubeconfig, namespace: values.namespace!, installCrds: values['install-crds']!, log }) : { store: await DirectoryStore.open(dir!, { log }), what: dir! };
    const store = source.store;
    const meshOverrides = { ...(values['root-namespace'] ? { rootNamespace: values['root-namespace'] } : {}), ...(outbound ? { outboundTrafficPolicy: outbound } : {}) };
    const cp = new ControlPlane({ store, cluster: { meshOverrides }, log });
    const debug = new DebugServer(cp);
    const xdsPort = await cp.listen(values.bind!, port(values['xds-port'], '--xds-port'));
    const debugPort = await debug.listen(values.bind!, port(values['debug-port'], '--debug-port'));
    if (ca) {
      const caPort = await ca.listen(values.bind!, port(values['ca-port'], '--ca-port'));
      caLine = `, CA API on ${values.bind}:${caPort} (signer: ${ca.signer.status().source}; proxies' --ca-root: ${ca.rootFile})`;
    }
    let webhook: InjectionWebhook | undefined;
    if ('kubernetes' in source && values['webhook-port'] !== 'off') {
      // Its serving certificate comes from the mesh CA's root (the same state directory), whose bundle it registers.
      mkdirSync(caStateDir, { recursive: true });
      const signer = await CertificateAuthority.open({ stateDir: caStateDir });
      const names = [`${values['webhook-service']}.${values.namespace}.svc`, values.bind!];
      webhook = await InjectionWebhook.listen({ store: source.kubernetes, tls: await signer.serverCertificate(names), image: values['proxy-image'], log }, values.bind!, port(values['webhook-port']!, '--webhook-port'));
      const url = values['webhook-url'] ?? (values['in-cluster'] ? undefined : `https://${values.bind}:${webhook.port}`);
      await registerWebhook(source.client, { caBundle: signer.trustBundle(), url, serviceNamespace: values.namespace, serviceName: values['webhook-service'] });
      caLine += `, injection webhook on https://${values.bind}:${webhook.port}${INJECT_PATH}`;
    }
    // As istiod: Gateway API status and Istio objects' validationMessages written back to the cluster.
    const statusWriter = 'kubernetes' in source ? new StatusWriter({ controlPlane: cp, store: source.kubernetes, log }) : undefined;
    await statusWriter?.start();
    let operator: ControlPlaneOperator | undefined;
    if ('kubernetes' in source && values.operator) {
      operator = new ControlPlaneOperator({ store: source.kubernetes, client: source.client, image: values['control-plane-image'], log });
      await operator.start();
      caLine += ', operator on';
    }
    process.stdout.write(`trellis controlplane: ${store.list().length} resources from ${source.what}; xDS on ${values.bind}:${xdsPort}, debug on http://${values.bind}:${debugPort}${caLine}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await operator?.stop();
    await statusWriter?.stop();
    await webhook?.close();
    await ca?.close();
    caClient?.close();
    await debug.close();
    await cp.close();
    // Everything is closed; a peer that keeps its end of a connection open (a proxyless gRPC client's ADS stream
    // survives the server's GOAWAY) must not keep a stopped control plane alive, as with `trellis proxy`.
    process.exit(0);
  },
};
