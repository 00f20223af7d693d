// Istio's well-known ports, named once: the proxy, the control plane, `trellis up` and the CLI defaults take their
// numbers from here, so a port means what Istio's documentation says it means wherever a user meets it.

export const PORTS = {
  /** Envoy's admin API on every proxy (config_dump, stats, /quitquitquit); bound to loopback, as Istio does. */
  proxyAdmin: 15000,
  /** A sidecar's outbound capture: Istio redirects the app's outgoing traffic here; `trellis up` points HTTP_PROXY at it. */
  outbound: 15001,
  /**
   * A sidecar's inbound capture in Istio (iptables sends the pod's incoming traffic here). `trellis up` has no
   * iptables: the sidecar listens on the pod's own ports instead, so nothing binds it yet.
   */
  inbound: 15006,
  /**
   * HBONE: mutual TLS, HTTP/2 CONNECT with the original destination as the authority. The node proxy (ztunnel) takes it
   * in every ambient pod's namespace, HBONE-capable sidecars and waypoints on their own address.
   */
  hbone: 15008,
  /** The control plane's plaintext xDS (istiod's gRPC port without TLS). */
  xds: 15010,
  /** istiod's xDS and CA API over TLS; `trellis up` serves Istio's CA API (CreateCertificate) there. */
  xdsTls: 15012,
  /** istiod's sidecar injection webhook (HTTPS; the API server calls it when a pod is created). */
  injectionWebhook: 15017,
  /** istiod's monitoring port: its metrics, and the /debug endpoints (syncz, config_dump) in Trellis. */
  controlPlaneMonitoring: 15014,
  /** The agent's merged Prometheus port on every proxy (Istio's metrics plus the app's own) and /healthz/ready. */
  mergedStats: 15020,
  /** The readiness port Istio's gateways expose (`status-port` on the ingress Service, /healthz/ready). */
  readiness: 15021,
  /** Envoy's own Prometheus stats on every proxy (`http-envoy-prom`); never captured. */
  envoyStats: 15090,
  /** Prometheus, as Istio's addon installs it. */
  prometheus: 9090,
  /** Kiali's port: the console. */
  console: 20001,
} as const;

/**
 * The ports of Istio's default ingress gateway Service: a Gateway server on 80 or 443 (the Service's ports) or on 8080
 * or 8443 (their target ports in the pod, what current samples name) is the same listener.
 */
export const INGRESS_SERVICE_PORTS = { http: { port: 80, targetPort: 8080 }, https: { port: 443, targetPort: 8443 } } as const;

/** The host port of the local ingress gateway's HTTP servers: Istio's docs port-forward its port 80 to 8080. */
export const DEFAULT_INGRESS_PORT = 8080;

/** How far above the HTTP host port the HTTPS one is: as far as 8443 is above 8080 (Istio's target ports). */
export const INGRESS_HTTPS_OFFSET = INGRESS_SERVICE_PORTS.https.targetPort - INGRESS_SERVICE_PORTS.http.targetPort;

/**
 * Where the local ingress gateway's servers land on the host: HTTP on `httpHostPort` (`--ingress-port`), HTTPS
 * INGRESS_HTTPS_OFFSET above it, so `--ingress-port 8080` serves 8080 and 8443 as a port-forwarded Istio gateway
 * would. Keyed by the Gateway server port, as the proxy's GATEWAY_PORTS metadata is.
 */
export function ingressHostPorts(httpHostPort: number): Record<string, number> {
  const { http, https } = INGRESS_SERVICE_PORTS;
  const httpsHostPort = httpHostPort + INGRESS_HTTPS_OFFSET;
  return { [http.port]: httpHostPort, [http.targetPort]: httpHostPort, [https.port]: httpsHostPort, [https.targetPort]: httpsHostPort };
}
