// VirtualService analyzers: gateways, destination hosts, ports and subsets, mesh host conflicts, unreachable rules, JWT claim routing.

import { hostsIntersect, resolveHost } from '../../hosts.js';
import { GROUPS } from '../../kinds.js';
import { escapePointerSegment, pointer } from '../../resource.js';
import type { HTTPMatchRequest, VirtualServiceSpec } from '../../types/networking.js';
import type { RequestAuthenticationSpec } from '../../types/security.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import { MESH_GATEWAY } from '../config-index.js';
import { matchesLabels, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { appliesToMesh, arr, canonicalJson, destinationsOf, fullName, goList, isRecord, ofKind, type VirtualService } from './util.js';

const virtualServices = (ctx: AnalysisContext) => ofKind<VirtualServiceSpec>(ctx.resources, GROUPS.ISTIO_NET, 'VirtualService');

export const virtualServiceGatewayAnalyzer: Analyzer = {
  name: 'virtualservice.GatewayAnalyzer',
  description: 'Checks the gateways associated with each virtual service',
  analyze(ctx) {
    for (const vs of virtualServices(ctx)) {
      const ns = vs.metadata.namespace;
      arr(vs.spec.gateways).forEach((gw, i) => {
        if (typeof gw !== 'string' || gw === MESH_GATEWAY) return;
        const ref = ctx.index.istioGatewayRef(gw, ns);
        const at = pointer('spec', 'gateways', i);
        if (!ref.resource) {
          ctx.report(Messages.ReferencedResourceNotFound, vs, at, `Referenced gateway not found: ${JSON.stringify(gw)}`);
          return;
        }
        const vsHosts = arr(vs.spec.hosts).filter((h): h is string => typeof h === 'string');
        const gwHosts = gatewayHostsFor(ref.resource.spec.servers, ref.namespace, ns);
        const found = vsHosts.some((h) => gwHosts.some((g) => hostsIntersect(g, h) || hostsIntersect(g, resolveHost(h, ns))));
        if (!found) {
          ctx.report(Messages.VirtualServiceHostNotFoundInGateway, vs, at, `one or more host ${goList(vsHosts)} defined in VirtualService ${fullName(vs)} not found in Gateway ${ref.namespace}/${ref.name}.`);
        }
      });
    }
  },
};

/**
 * The hosts a Gateway offers to VirtualServices of `vsNamespace`: `ns/host` entries count only for that namespace,
 * `./host` for the gateway's own namespace, `*` or no prefix for everyone.
 */
function gatewayHostsFor(servers: unknown, gatewayNamespace: string, vsNamespace: string): string[] {
  const out: string[] = [];
  for (const server of arr(servers as Array<{ hosts?: string[] }>)) {
    for (const h of arr(server?.hosts)) {
      if (typeof h !== 'string') continue;
      const slash = h.indexOf('/');
      if (slash < 0) {
        out.push(h);
        continue;
      }
      const ns = h.slice(0, slash);
      const host = h.slice(slash + 1);
      if (ns === '*' || ns === vsNamespace || (ns === '.' && gatewayNamespace === vsNamespace)) out.push(host);
    }
  }
  return out;
}

export const virtualServiceDestinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'Checks the destination hosts associated with each virtual service',
  analyze(ctx) {
    const all = virtualServices(ctx);
    for (const vs of all) {
      const ns = vs.metadata.namespace;
      for (const d of destinationsOf(vs)) {
        const host = d.destination.host;
        if (typeof host !== 'string' || host === '') continue;
        const services = ctx.index.servicesForHost(resolveHost(host, ns), ns);
        const hostAt = `${d.pointer}/host`;
        if (services.length === 0) {
          ctx.report(Messages.ReferencedResourceNotFound, vs, hostAt, `Referenced ${d.mirror ? 'mirror host' : 'host'} not found: ${JSON.stringify(host)}`);
          continue;
        }
        const ports = services[0]!.ports.map((p) => p.number);
        const wanted = d.destination.port?.number;
        if (wanted === undefined || wanted === null) {
          if (ports.length > 1) {
            ctx.report(Messages.VirtualServiceDestinationPortSelectorRequired, vs, hostAt, `This VirtualService routes to a service ${JSON.stringify(host)} that exposes multiple ports ${goList(ports)}. Specifying a port in the destination is required to disambiguate.`);
          }
        } else if (ports.length > 0 && !services.some((s) => s.ports.some((p) => p.number === Number(wanted)))) {
          ctx.report(Messages.ReferencedResourceNotFound, vs, `${d.pointer}/port/number`, `Referenced host:port not found: ${JSON.stringify(`${host}:${wanted}`)}`);
        }
      }
    }
    reportIngressRulesNotAffected(ctx, all);
  },
};

/**
 * IST0140: a VirtualService bound to a gateway sends traffic to a host without a subset, while a mesh VirtualService
 * for that host picks subsets. The gateway applies only its own rules, so those subsets do not apply to its requests.
 */
function reportIngressRulesNotAffected(ctx: AnalysisContext, all: readonly VirtualService[]): void {
  // Mesh VirtualServices that route their own host to subsets, by the FQDN of that host.
  const subsetRouting = new Map<string, VirtualService[]>();
  for (const vs of all) {
    if (!appliesToMesh(vs)) continue;
    const ns = vs.metadata.namespace;
    const own = new Set(arr(vs.spec.hosts).map((h) => resolveHost(String(h), ns)));
    for (const d of destinationsOf(vs)) {
      if (d.mirror || !d.destination.subset || typeof d.destination.host !== 'string') continue;
      const fqdn = resolveHost(d.destination.host, ns);
      if (!own.has(fqdn)) continue;
      const list = subsetRouting.get(fqdn) ?? [];
      if (!list.includes(vs)) list.push(vs);
      subsetRouting.set(fqdn, list);
    }
  }
  for (const vs of all) {
    if (!arr(vs.spec.gateways).some((g) => g !== MESH_GATEWAY)) continue;
    const ns = vs.metadata.namespace;
    arr(vs.spec.http).forEach((rule, i) => {
      arr(rule?.route).forEach((rd, j) => {
        const dest = rd?.destination;
        if (!isRecord(dest) || dest.subset || typeof dest.host !== 'string') return;
        for (const other of subsetRouting.get(resolveHost(dest.host, ns)) ?? []) {
          if (other === vs) continue;
          ctx.report(Messages.IngressRouteRulesNotAffected, vs, pointer('spec', 'http', i, 'route', j, 'destination', 'host'), `Subset in virtual service ${fullName(other)} has no effect on ingress gateway ${fullName(vs)} requests`);
        }
      });
    });
  }
}

export const virtualServiceDestinationRuleAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'Checks the destination rules associated with each virtual service',
  analyze(ctx) {
    for (const vs of virtualServices(ctx)) {
      const ns = vs.metadata.namespace;
      for (const d of destinationsOf(vs)) {
        const { host, subset } = d.destination;
        if (typeof host !== 'string' || typeof subset !== 'string' || subset === '') continue;
        const rules = ctx.index.destinationRulesFor(resolveHost(host, ns), ns);
        if (rules.some((dr) => arr(dr.spec.subsets).some((s) => s?.name === subset))) continue;
        ctx.report(Messages.ReferencedResourceNotFound, vs, `${d.pointer}/subset`, `Referenced ${d.mirror ? 'mirror+subset' : 'host+subset'} in destinationrule not found: ${JSON.stringify(`${host}+${subset}`)}`);
      }
    }
  },
};

export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'Checks if multiple virtual services associated with the mesh gateway have conflicting hosts',
  analyze(ctx) {
    const byScopedHost = new Map<string, Array<{ vs: VirtualService; hostIndex: number }>>();
    for (const vs of virtualServices(ctx)) {
      if (!appliesToMesh(vs)) continue;
      const ns = vs.metadata.namespace;
      const exportTo = arr(vs.spec.exportTo).map(String);
      const scopes = exportTo.length === 0 || exportTo.includes('*') ? ['*'] : [...new Set(exportTo.map((e) => (e === '.' ? ns : e)))];
      arr(vs.spec.hosts).forEach((h, hostIndex) => {
        if (typeof h !== 'string') return;
        for (const scope of scopes) {
          const key = `${scope}/${resolveHost(h, ns)}`;
          const list = byScopedHost.get(key) ?? [];
          list.push({ vs, hostIndex });
          byScopedHost.set(key, list);
        }
      });
    }
    for (const [key, list] of byScopedHost) {
      const distinct = [...new Set(list.map((e) => e.vs))];
      if (distinct.length < 2) continue;
      const names = distinct.map(fullName).join(',');
      for (const { vs, hostIndex } of list) {
        ctx.report(Messages.ConflictingMeshGatewayVirtualServiceHosts, vs, pointer('spec', 'hosts', hostIndex), `The VirtualServices ${names} associated with mesh gateway define the same host ${key} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`);
      }
    }
  },
};

export const virtualServiceMatchesAnalyzer: Analyzer = {
  name: 'schema.ValidationAnalyzer.VirtualService',
  description: 'Checks for VirtualService rules that can never be used and matches that duplicate earlier ones',
  analyze(ctx) {
    for (const vs of virtualServices(ctx)) {
      for (const section of ['http', 'tcp', 'tls'] as const) {
        const rules = arr(vs.spec[section] as Array<{ name?: string; match?: unknown[] }> | undefined);
        analyzeRules(rules, {
          unreachable: (i, reason) => ctx.report(Messages.VirtualServiceUnreachableRule, vs, pointer('spec', section, i), `VirtualService rule ${routeName(rules[i], i)} not used (${reason}).`),
          ineffective: (i, j, dup) =>
            ctx.report(Messages.VirtualServiceIneffectiveMatch, vs, pointer('spec', section, i, 'match', j), `VirtualService rule ${routeName(rules[i], i)} match ${routeName(arr(rules[i]?.match)[j] as { name?: string }, j)} is not used (duplicate/overlapping match in rule ${routeName(rules[dup], dup)}).`),
        });
      }
    }
  },
};

function routeName(rule: { name?: string } | undefined, index: number): string {
  return rule && typeof rule.name === 'string' && rule.name !== '' ? JSON.stringify(rule.name) : `#${index}`;
}

/**
 * Istio's unreachable-rule analysis: a rule after a rule without matches never runs, and a match equal to
 * one in an earlier rule never wins (equality ignores the match's name, which does not affect routing).
 */
/**
 * Istio's rule analysis: rules after a catch-all, matches equal to an earlier one, and (beyond Istio, same message)
 * HTTP matches whose URI falls under an earlier rule's prefix with otherwise identical conditions.
 */
function analyzeRules(
  rules: ReadonlyArray<{ match?: unknown[] } | undefined>,
  report: { unreachable(i: number, reason: string): void; ineffective(i: number, j: number, dup: number): void },
): void {
  const seen = new Map<string, number>();
  const prefixes: Array<{ rule: number; prefix: string; rest: string }> = [];
  let catchAll = -1;
  rules.forEach((rule, i) => {
    const matches = arr(rule?.match);
    if (matches.length === 0) {
      if (catchAll >= 0) report.unreachable(i, 'only the last rule can have no matches');
      catchAll = i;
      return;
    }
    if (catchAll >= 0) {
      report.unreachable(i, 'route without matches defined before');
      return;
    }
    let duplicates = 0;
    const mine: typeof prefixes = [];
    matches.forEach((m, j) => {
      const key = canonicalJson(isRecord(m) ? { ...m, name: undefined } : m);
      const dup = seen.get(key);
      if (dup !== undefined) {
        report.ineffective(i, j, dup);
        duplicates++;
        return;
      }
      seen.set(key, i);
      const uri = isRecord(m) && isRecord(m.uri) ? m.uri : undefined;
      const path = typeof uri?.prefix === 'string' ? uri.prefix : typeof uri?.exact === 'string' ? uri.exact : undefined;
      if (path === undefined) return;
      const rest = canonicalJson({ ...(m as Record<string, unknown>), name: undefined, uri: undefined });
      const cover = prefixes.find((p) => p.rest === rest && path.startsWith(p.prefix));
      if (cover) {
        report.ineffective(i, j, cover.rule);
        duplicates++;
        return;
      }
      if (typeof uri?.prefix === 'string') mine.push({ rule: i, prefix: uri.prefix, rest });
    });
    prefixes.push(...mine);
    if (duplicates === matches.length) report.unreachable(i, 'all matches used by prior rules');
  });
}

const JWT_CLAIM_PREFIX = '@request.auth.claims';

export const jwtClaimRouteAnalyzer: Analyzer = {
  name: 'virtualservice.JWTClaimRouteAnalyzer',
  description: 'Checks the VirtualService using JWT claim based routing has corresponding RequestAuthentication',
  analyze(ctx) {
    const authns = ctx.index.list<RequestAuthenticationSpec>(GROUPS.ISTIO_SEC, 'RequestAuthentication');
    for (const vs of virtualServices(ctx)) {
      const claim = findClaimHeader(vs);
      if (!claim) continue;
      for (const gw of arr(vs.spec.gateways)) {
        if (typeof gw !== 'string' || gw === MESH_GATEWAY) continue;
        const ref = ctx.index.istioGatewayRef(gw, vs.metadata.namespace);
        if (!ref.resource) continue; // reported by the gateway analyzer
        for (const w of ctx.index.gatewayWorkloads(stringRecord(ref.resource.spec.selector))) {
          const covered = authns.some(
            (ra) => (ra.metadata.namespace === ctx.index.rootNamespace || ra.metadata.namespace === w.namespace) && matchesLabels(stringRecord(ra.spec.selector?.matchLabels), w.labels),
          );
          if (covered) continue;
          ctx.report(
            Messages.JwtClaimBasedRoutingWithoutRequestAuthN,
            vs,
            claim.at,
            `The virtual service uses the JWT claim based routing (key: ${claim.key}) but found no request authentication for the gateway (${ref.namespace}/${ref.name}) pod (${w.name}). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing.`,
          );
        }
      }
    }
  },
};

function findClaimHeader(vs: VirtualService): { key: string; at: string } | undefined {
  const rules = arr(vs.spec.http);
  for (let i = 0; i < rules.length; i++) {
    const matches = arr(rules[i]?.match) as HTTPMatchRequest[];
    for (let j = 0; j < matches.length; j++) {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        const headers = matches[j]?.[field];
        if (!isRecord(headers)) continue;
        for (const key of Object.keys(headers)) {
          if (key.startsWith(JWT_CLAIM_PREFIX)) return { key, at: `${pointer('spec', 'http', i, 'match', j, field)}/${escapePointerSegment(key)}` };
        }
      }
    }
  }
  return undefined;
}
