// Builds the traffic graph from Prometheus vectors (pure): nodes and edges, then response times, mTLS and health.

import type { Sample } from '../sources.js';
import { addRates, classify, emptyRates, KIALI_DEFAULT_HEALTH, ratesHealth, worst, type HealthConfig } from './health.js';
import { isOK, nodeIdentity, UNKNOWN, type NodeIdentity, type NodeKey } from './ids.js';
import type { Graph, GraphEdgeData, GraphNodeData, GraphType, HealthStatus, Protocol, RequestRates } from './types.js';

/** The results of `graphQueries` for every requested namespace (duplicates across namespaces are fine). */
export interface GraphInput {
  requests: Sample[];
  tcp: Sample[];
  responseTime: Sample[];
  security: Sample[];
  /** `istio_requests_total{reporter="waypoint"}`: requests a waypoint passed on (Istio's waypoint telemetry). */
  waypointRequests?: Sample[];
}

export interface GraphOptions {
  graphType: GraphType;
  namespaces: string[];
  /** Seconds the rates were averaged over. */
  duration: number;
  /** Put a service node in front of the workloads/apps it routes to (Kiali's default: on). */
  injectServiceNodes?: boolean;
  /** Which workloads are gateways; by default those named like Istio's (`istio-ingressgateway`, …). */
  isGateway?: (namespace: string, workload: string, app: string) => boolean;
  /** Which workloads (or apps) are in ambient mode; by default none. */
  isAmbient?: (namespace: string, workload: string, app: string) => boolean;
  /** Which workloads are ambient waypoints; by default none. */
  isWaypoint?: (namespace: string, workload: string) => boolean;
  /** The waypoint (its workload) a service's traffic goes through (`istio.io/use-waypoint`), if any. */
  waypointOf?: (namespace: string, service: string) => { namespace: string; workload: string } | undefined;
  /** The node proxy (ztunnel) of the ambient workloads: drawn as an infrastructure node when the graph has some. */
  nodeProxy?: { namespace: string; workload: string };
  health?: HealthConfig;
  timestamp?: number;
}

const DEFAULT_GATEWAYS = new Set(['istio-ingressgateway', 'istio-egressgateway']);
function defaultIsGateway(_ns: string, workload: string, app: string): boolean {
  return DEFAULT_GATEWAYS.has(workload) || DEFAULT_GATEWAYS.has(app);
}

interface EdgeRec {
  source: string;
  target: string;
  protocol: Protocol;
  rates: RequestRates;
  tcpBps: number;
  responses: Record<string, Record<string, number>>;
  hosts: Set<string>;
  responseTimeMs?: number;
  /** Traffic seen by the security queries: all of it, and the part that was mutual TLS. */
  secTotal: number;
  secMtls: number;
  sourcePrincipal?: string;
  destPrincipal?: string;
}

interface NodeRec {
  data: GraphNodeData;
  destServices: Set<string>;
}

/** The labels of one series, read once. */
interface Labels {
  srcKey: NodeKey;
  destSvcNs: string;
  destSvcName: string;
  destKey: NodeKey;
  host: string;
}

function readLabels(m: Record<string, string>): Labels | undefined {
  const get = (k: string) => m[k] ?? '';
  const srcNs = get('source_workload_namespace');
  const srcWl = get('source_workload');
  // Source telemetry without a namespace is unusable (Kiali drops it too): no node can be named.
  if (!isOK(srcNs) && srcWl !== UNKNOWN) return undefined;
  const srcKey: NodeKey = { serviceNamespace: '', service: '', workloadNamespace: srcNs, workload: srcWl, app: get('source_app'), version: get('source_version') };
  const host = get('destination_service');
  let destSvcName = get('destination_service_name');
  let destSvcNs = get('destination_service_namespace');
  const destWlNs = get('destination_workload_namespace');
  const destWl = get('destination_workload');
  // A request to a host the mesh does not know (passthrough, a typo'd host) has no service name: name it by host.
  if (!isOK(destSvcName) && !isOK(destWl) && isOK(host)) destSvcName = host;
  if (!isOK(destSvcNs)) destSvcNs = isOK(destWlNs) ? destWlNs : srcNs;
  if (!isOK(destSvcName) && !isOK(destWl)) return undefined;
  const destKey: NodeKey = { serviceNamespace: destSvcNs, service: destSvcName, workloadNamespace: destWlNs, workload: destWl, app: get('destination_app'), version: get('destination_version') };
  return { srcKey, destSvcNs, destSvcName, destKey, host };
}

class TrafficMap {
  readonly nodes = new Map<string, NodeRec>();
  readonly edges = new Map<string, EdgeRec>();

  constructor(private readonly o: Required<Pick<GraphOptions, 'graphType' | 'injectServiceNodes' | 'isGateway' | 'isAmbient' | 'isWaypoint'>>) {}

  /** Source and destination node ids for one series, with the service node in between when it is injected. */
  route(l: Labels): { src: string; svc?: string; dest: string } | undefined {
    // Both ends must be nameable before either becomes a node: no orphan nodes from half-usable series.
    if (!nodeIdentity(l.srcKey, this.o.graphType) || !nodeIdentity(l.destKey, this.o.graphType)) return undefined;
    const src = this.node(l.srcKey);
    const dest = this.node(l.destKey);
    if (!src || !dest) return undefined;
    // Traffic to a waypoint is on its way to the service, which the waypoint's own telemetry shows next.
    if (this.nodes.get(dest.id)!.data.isWaypoint) return { src: src.id, dest: dest.id };
    if (this.o.injectServiceNodes && isOK(l.destSvcName) && dest.nodeType !== 'service') {
      const svc = this.node({ serviceNamespace: l.destSvcNs, service: l.destSvcName, workloadNamespace: '', workload: '', app: '', version: '' });
      if (svc) return { src: src.id, svc: svc.id, dest: dest.id };
    }
    return { src: src.id, dest: dest.id };
  }

  /** Like `route`, but only between nodes that exist: response time and security annotate, they never add. */
  routeIfKnown(l: Labels): { src: string; svc?: string; dest: string } | undefined {
    const known = (k: NodeKey) => {
      const ident = nodeIdentity(k, this.o.graphType);
      return ident && this.nodes.has(ident.id) ? ident : undefined;
    };
    const src = known(l.srcKey);
    const dest = known(l.destKey);
    if (!src || !dest) return undefined;
    if (this.nodes.get(dest.id)!.data.isWaypoint) return { src: src.id, dest: dest.id };
    if (this.o.injectServiceNodes && isOK(l.destSvcName) && dest.nodeType !== 'service') {
      const svc = known({ serviceNamespace: l.destSvcNs, service: l.destSvcName, workloadNamespace: '', workload: '', app: '', version: '' });
      return svc ? { src: src.id, svc: svc.id, dest: dest.id } : undefined;
    }
    return { src: src.id, dest: dest.id };
  }

  node(k: NodeKey): NodeIdentity | undefined {
    const ident = nodeIdentity(k, this.o.graphType);
    if (!ident) return undefined;
    let rec = this.nodes.get(ident.id);
    if (!rec) {
      const data: GraphNodeData = { id: ident.id, nodeType: ident.nodeType, namespace: ident.namespace, traffic: { httpIn: emptyRates(), httpOut: emptyRates(), tcpIn: 0, tcpOut: 0 }, health: 'NA' };
      if (ident.nodeType !== 'unknown') {
        if (ident.nodeType === 'service') data.service = k.service;
        else {
          if (isOK(k.workload) && this.o.graphType !== 'app') data.workload = k.workload;
          if (isOK(k.app)) data.app = k.app;
          if (isOK(k.version) && this.o.graphType !== 'app') data.version = k.version;
          if (this.o.isGateway(ident.namespace, k.workload, k.app)) data.isGateway = true;
          if (this.o.isAmbient(ident.namespace, k.workload, k.app)) data.isAmbient = true;
          if (isOK(k.workload) && this.o.isWaypoint(ident.namespace, k.workload)) data.isWaypoint = true;
        }
      }
      rec = { data, destServices: new Set() };
      this.nodes.set(ident.id, rec);
    }
    return ident;
  }

  edge(source: string, target: string, protocol: Protocol): EdgeRec {
    const id = `${source}->${target}:${protocol}`;
    let e = this.edges.get(id);
    if (!e) {
      e = { source, target, protocol, rates: emptyRates(), tcpBps: 0, responses: {}, hosts: new Set(), secTotal: 0, secMtls: 0 };
      this.edges.set(id, e);
    }
    return e;
  }

  /** Edges between two nodes whatever their protocol (response time and security are per node pair). */
  *between(source: string, target: string): Iterable<EdgeRec> {
    for (const e of this.edges.values()) if (e.source === source && e.target === target) yield e;
  }
}

/** Adds one request series to its edges (through the service node when there is one); returns those edges. */
function addRequests(map: TrafficMap, r: { src: string; svc?: string; dest: string }, s: Sample, host: string): EdgeRec[] {
  const protocol: Protocol = s.metric.request_protocol === 'grpc' ? 'grpc' : 'http';
  const code = s.metric.response_code ?? '';
  const flags = s.metric.response_flags || '-';
  const rates = classify(s.value, protocol, code, s.metric.grpc_response_status);
  const hops = r.svc ? [[r.src, r.svc], [r.svc, r.dest]] : [[r.src, r.dest]];
  return hops.map(([a, b]) => {
    const e = map.edge(a!, b!, protocol);
    addRates(e.rates, rates);
    const byFlags = (e.responses[code || '-'] ??= {});
    byFlags[flags] = (byFlags[flags] ?? 0) + s.value;
    if (isOK(host)) e.hosts.add(host);
    return e;
  });
}

/** Identical series can come back from two namespaces' queries; count each once. */
function dedupe(samples: Sample[]): Sample[] {
  const seen = new Map<string, Sample>();
  for (const s of samples) {
    const key = Object.keys(s.metric).sort().map((k) => `${k}=${s.metric[k]}`).join(',');
    seen.set(key, s);
  }
  return [...seen.values()];
}

export function buildGraph(input: GraphInput, options: GraphOptions): Graph {
  const graphType = options.graphType;
  // The service graph is the workload graph with service nodes, reduced afterwards (as Kiali builds it).
  const baseType: GraphType = graphType === 'service' ? 'workload' : graphType;
  const map = new TrafficMap({
    graphType: baseType,
    injectServiceNodes: graphType === 'service' ? true : options.injectServiceNodes ?? true,
    isGateway: options.isGateway ?? defaultIsGateway,
    isAmbient: options.isAmbient ?? (() => false),
    isWaypoint: options.isWaypoint ?? (() => false),
  });

  for (const s of dedupe(input.requests)) {
    if (!(s.value > 0)) continue;
    const l = readLabels(s.metric);
    if (!l) continue;
    const r = map.route(l);
    if (!r) continue;
    addRequests(map, r, s, l.host);
    if (isOK(l.destSvcName)) map.nodes.get(r.dest)!.destServices.add(l.destSvcName);
  }

  addWaypointRequests(map, input.waypointRequests ?? [], options);

  for (const s of dedupe(input.tcp)) {
    if (!(s.value > 0)) continue;
    const l = readLabels(s.metric);
    if (!l) continue;
    const r = map.route(l);
    if (!r) continue;
    const hops = r.svc ? [[r.src, r.svc], [r.svc, r.dest]] : [[r.src, r.dest]];
    for (const [a, b] of hops) {
      const e = map.edge(a!, b!, 'tcp');
      e.tcpBps += s.value;
      const flags = s.metric.response_flags || '-';
      const byFlags = (e.responses['-'] ??= {});
      byFlags[flags] = (byFlags[flags] ?? 0) + s.value;
      if (isOK(l.host)) e.hosts.add(l.host);
    }
  }

  // Response time: with a service node in between, Kiali puts it on the service → workload hop only (the time of
  // the source → service hop would be an average of averages). The reduction to a service graph needs the
  // source → service values too, so they are kept aside.
  const sourceToService = new Map<string, number>();
  for (const s of input.responseTime) {
    if (!Number.isFinite(s.value)) continue;
    const l = readLabels(s.metric);
    if (!l) continue;
    const r = map.routeIfKnown(l);
    if (!r) continue;
    const [a, b] = r.svc ? [r.svc, r.dest] : [r.src, r.dest];
    // Several series can fold into one app node: keep the slowest rather than whichever came last.
    for (const e of map.between(a, b)) if (e.protocol !== 'tcp') e.responseTimeMs = Math.max(e.responseTimeMs ?? 0, s.value);
    if (r.svc) sourceToService.set(`${r.src} ${r.svc}`, Math.max(sourceToService.get(`${r.src} ${r.svc}`) ?? 0, s.value));
  }

  for (const s of dedupe(input.security)) {
    if (!(s.value > 0)) continue;
    const l = readLabels(s.metric);
    if (!l) continue;
    const r = map.routeIfKnown(l);
    if (!r) continue;
    const mtls = s.metric.connection_security_policy === 'mutual_tls';
    const hops = r.svc ? [[r.src, r.svc], [r.svc, r.dest]] : [[r.src, r.dest]];
    for (const [a, b] of hops) {
      for (const e of map.between(a!, b!)) {
        // Keyed by node pair as in Kiali; `(http) or (tcp)` yields a tcp series only where no http one has the
        // same labels, so each pair's ratio is computed within one unit (requests or bytes).
        e.secTotal += s.value;
        if (mtls) e.secMtls += s.value;
        if (s.metric.source_principal && s.metric.source_principal !== UNKNOWN) e.sourcePrincipal = s.metric.source_principal;
        if (s.metric.destination_principal && s.metric.destination_principal !== UNKNOWN) e.destPrincipal = s.metric.destination_principal;
      }
    }
  }

  if (options.nodeProxy && [...map.nodes.values()].some((n) => n.data.isAmbient)) {
    const { namespace, workload } = options.nodeProxy;
    const id = map.node({ serviceNamespace: '', service: '', workloadNamespace: namespace, workload, app: '', version: '' });
    if (id) map.nodes.get(id.id)!.data.isZtunnel = true;
  }

  let nodes = map.nodes;
  let edges = [...map.edges.values()];
  if (graphType === 'service') ({ nodes, edges } = reduceToServiceGraph(map, sourceToService));

  return finish(nodes, edges, options);
}

/**
 * Istio's waypoint telemetry: the waypoint reports each request it passed on (`reporter="waypoint"`), the client
 * known by its certificate. Drawn as Kiali draws a waypoint: an edge from the waypoint node to the destination (the
 * service node, then its workload when the waypoint names it); the client → waypoint hop is the node proxy's TCP.
 */
function addWaypointRequests(map: TrafficMap, samples: Sample[], options: GraphOptions): void {
  for (const s of dedupe(samples)) {
    if (!(s.value > 0)) continue;
    const l = readLabels(s.metric);
    if (!l || !isOK(l.destSvcName)) continue;
    const wp = options.waypointOf?.(l.destSvcNs, l.destSvcName);
    if (!wp) continue;
    // A waypoint has no app label: its canonical service (what the node proxy reports as its app) is its name.
    const r = map.route({ ...l, srcKey: { serviceNamespace: '', service: '', workloadNamespace: wp.namespace, workload: wp.workload, app: wp.workload, version: '' } });
    if (!r) continue;
    const mtls = s.metric.connection_security_policy === 'mutual_tls';
    for (const e of addRequests(map, r, s, l.host)) {
      // The waypoint knows the security of what it passed on (HBONE: mutual TLS) and the client's certificate.
      e.secTotal += s.value;
      if (mtls) e.secMtls += s.value;
      if (s.metric.source_principal && s.metric.source_principal !== UNKNOWN) e.sourcePrincipal = s.metric.source_principal;
    }
  }
}

/**
 * Kiali's service graph: keep service nodes and the nodes that only send (unknown, gateways, traffic
 * generators); an edge S → T for every workload W behind S that calls T, carrying W's traffic to T.
 */
function reduceToServiceGraph(map: TrafficMap, sourceToService: Map<string, number>): { nodes: Map<string, NodeRec>; edges: EdgeRec[] } {
  const incoming = new Set<string>();
  for (const e of map.edges.values()) incoming.add(e.target);
  const keep = new Map<string, NodeRec>();
  for (const [id, n] of map.nodes) if (n.data.nodeType === 'service' || !incoming.has(id)) keep.set(id, n);

  const out = new Map<string, EdgeRec>();
  const merge = (source: string, target: string, from: EdgeRec, rt: number | undefined) => {
    const id = `${source}->${target}:${from.protocol}`;
    let e = out.get(id);
    if (!e) {
      e = { source, target, protocol: from.protocol, rates: emptyRates(), tcpBps: 0, responses: {}, hosts: new Set(), secTotal: 0, secMtls: 0 };
      out.set(id, e);
    }
    addRates(e.rates, from.rates);
    e.tcpBps += from.tcpBps;
    for (const [code, flags] of Object.entries(from.responses)) {
      const into = (e.responses[code] ??= {});
      for (const [f, v] of Object.entries(flags)) into[f] = (into[f] ?? 0) + v;
    }
    for (const h of from.hosts) e.hosts.add(h);
    e.secTotal += from.secTotal;
    e.secMtls += from.secMtls;
    e.sourcePrincipal ??= from.sourcePrincipal;
    e.destPrincipal ??= from.destPrincipal;
    if (rt !== undefined) e.responseTimeMs = Math.max(e.responseTimeMs ?? 0, rt);
  };
  const all = [...map.edges.values()];
  for (const e of all) {
    if (!keep.has(e.source)) continue;
    if (keep.has(e.target)) {
      merge(e.source, e.target, e, e.responseTimeMs ?? sourceToService.get(`${e.source} ${e.target}`));
      continue;
    }
    // e goes from a service S to a workload W: W's outgoing edges become S's.
    for (const w of all) {
      if (w.source !== e.target || !keep.has(w.target)) continue;
      merge(e.source, w.target, w, w.responseTimeMs ?? sourceToService.get(`${w.source} ${w.target}`));
    }
  }
  return { nodes: keep, edges: [...out.values()] };
}

function finish(nodes: Map<string, NodeRec>, edges: EdgeRec[], o: GraphOptions): Graph {
  const health = o.health ?? KIALI_DEFAULT_HEALTH;
  const hasIncoming = new Set<string>();
  const hasOutgoing = new Set<string>();
  for (const e of edges) {
    const s = nodes.get(e.source)?.data;
    const t = nodes.get(e.target)?.data;
    if (!s || !t) continue;
    hasIncoming.add(e.target);
    hasOutgoing.add(e.source);
    if (e.protocol === 'tcp') {
      s.traffic.tcpOut += e.tcpBps;
      t.traffic.tcpIn += e.tcpBps;
    } else {
      addRates(s.traffic.httpOut, e.rates);
      addRates(t.traffic.httpIn, e.rates);
    }
  }
  const requested = new Set(o.namespaces);
  const outNodes: Array<{ data: GraphNodeData }> = [];
  for (const [id, n] of nodes) {
    const d = n.data;
    if (n.destServices.size) d.destServices = [...n.destServices].sort();
    if (hasOutgoing.has(id) && !hasIncoming.has(id)) d.isRoot = true;
    if (d.nodeType !== 'unknown' && !requested.has(d.namespace)) d.isOutside = true;
    if (d.nodeType !== 'unknown') {
      const inbound = ratesHealth(d.traffic.httpIn, health);
      // A service's health is what it receives; a workload or app also answers for the calls it makes.
      const outbound = d.nodeType === 'service' ? { status: 'NA' as HealthStatus } : ratesHealth(d.traffic.httpOut, health);
      d.health = worst(inbound.status, outbound.status);
      if (d.health === 'NA' && (d.traffic.tcpIn > 0 || d.traffic.tcpOut > 0)) d.health = 'Healthy';
      const reason = d.health === inbound.status ? inbound.reason && `inbound ${inbound.reason}` : 'reason' in outbound && outbound.reason ? `outbound ${outbound.reason}` : undefined;
      if (reason) d.healthReason = reason;
    }
    outNodes.push({ data: d });
  }
  const outEdges = edges
    .filter((e) => nodes.has(e.source) && nodes.has(e.target))
    .map((e): { data: GraphEdgeData } => {
      const errors = e.protocol === 'grpc' ? e.rates.grpcErr : e.rates.err4xx + e.rates.err5xx;
      const data: GraphEdgeData = {
        id: `${e.source}->${e.target}:${e.protocol}`,
        source: e.source,
        target: e.target,
        protocol: e.protocol,
        rps: e.rates.total,
        errorRate: e.rates.total > 0 ? (errors / e.rates.total) * 100 : 0,
        err4xx: e.rates.err4xx,
        err5xx: e.rates.err5xx,
        tcpBps: e.tcpBps,
        responses: e.responses,
        hosts: [...e.hosts].sort(),
        health: e.protocol === 'tcp' ? 'NA' : ratesHealth(e.rates, health).status,
      };
      if (e.responseTimeMs !== undefined) data.responseTimeMs = e.responseTimeMs;
      // Kiali's isMTLS: the percentage of the edge's traffic that was mutual TLS, set only when some was.
      if (e.secMtls > 0) data.isMTLS = (e.secMtls / e.secTotal) * 100;
      if (e.sourcePrincipal) data.sourcePrincipal = e.sourcePrincipal;
      if (e.destPrincipal) data.destPrincipal = e.destPrincipal;
      return { data };
    });
  outNodes.sort((a, b) => a.data.id.localeCompare(b.data.id));
  outEdges.sort((a, b) => a.data.id.localeCompare(b.data.id));
  return { timestamp: o.timestamp ?? Math.floor(Date.now() / 1000), duration: o.duration, graphType: o.graphType, namespaces: o.namespaces, elements: { nodes: outNodes, edges: outEdges } };
}
