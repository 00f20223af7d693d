// The Kubernetes-mode control plane's status writer (istiod's status controller): after each config change it writes
// the Gateway API status Trellis computes (translate/gateway-api/status.ts) to Gateways, routes and GatewayClasses, and
// the analyzers' findings to each Istio object's `status.validationMessages` as Istio writes them (removed once the
// object is fixed). Each object is written only when its status changed; the store keeps status out of the config, so
// these writes cause no push.

import { GROUPS } from '../../config/kinds.js';
import type { Diagnostic, Level } from '../../config/diagnostics.js';
import type { Resource } from '../../config/resource.js';
import { analyzeResources } from '../../config/analysis/run.js';
import type { ControlPlane } from '../../controlplane/control-plane.js';
import { gatewayApiStatus, stampTransitions, type ObjectStatus } from '../../controlplane/translate/gateway-api/status.js';
import type { KubernetesStore } from '../kubernetes-store.js';
import type { WatchedType } from '../resource-types.js';
import { SerialLoop } from '../serial-loop.js';
import { StatusPatcher } from './status-patcher.js';

/** One entry of Istio's `status.validationMessages` (its AnalysisMessageBase, with the message text). */
export interface ValidationMessage {
  type: { code: string; name: string };
  level: 'ERROR' | 'WARNING' | 'INFO';
  description: string;
  documentationUrl: string;
}

const ISTIO_GROUPS: ReadonlySet<string> = new Set([GROUPS.ISTIO_NET, GROUPS.ISTIO_SEC, GROUPS.ISTIO_TEL, 'extensions.istio.io']);
const LEVELS: Record<Level, ValidationMessage['level']> = { Error: 'ERROR', Warning: 'WARNING', Info: 'INFO' };

/** Istio's shape of one finding. */
export function validationMessage(d: Diagnostic): ValidationMessage {
  return { type: { code: d.code, name: d.name }, level: LEVELS[d.level], description: d.message, documentationUrl: `https://istio.io/latest/docs/reference/config/analysis/${d.code.toLowerCase()}/` };
}

export interface StatusWriterOptions {
  controlPlane: ControlPlane;
  store: KubernetesStore;
  /** Quiet period after a change before writing (default 100 ms). */
  debounceMs?: number;
  log?: (line: string) => void;
}

export class StatusWriter {
  readonly patcher: StatusPatcher;
  private gateway: ObjectStatus[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly loop = new SerialLoop(() => this.writeAll(), (err) => this.log(`kubernetes: writing status failed: ${err instanceof Error ? err.message : String(err)}`));
  private readonly onChange = () => this.schedule();

  constructor(private readonly o: StatusWriterOptions) {
    this.patcher = new StatusPatcher(o.store.client);
  }

  /** Writes the status of what is there now, then after every change. */
  async start(): Promise<void> {
    this.o.store.on('change', this.onChange);
    this.kick();
    await this.idle();
  }

  /** Resolves once no write is running or due. */
  async idle(): Promise<void> {
    await this.loop.idle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.o.store.off('change', this.onChange);
    await this.loop.stop();
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), this.o.debounceMs ?? 100);
  }

  private kick(): void {
    this.timer = undefined;
    this.loop.request();
  }

  private log(line: string): void {
    (this.o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  private async writeAll(): Promise<void> {
    const resources = this.o.store.list();
    await this.writeGatewayApi();
    await this.writeValidationMessages(resources);
  }

  private async writeGatewayApi(): Promise<void> {
    // The push context is rebuilt synchronously on the store's change, before this runs.
    this.gateway = stampTransitions(this.gateway, gatewayApiStatus(this.o.controlPlane.pushContext), new Date());
    for (const o of this.gateway) {
      const type = this.o.store.typeOf(o.group, o.kind);
      if (o.builtIn || !type) continue;
      await this.writeIfPresent(type, o.namespace, o.name, o.status);
    }
  }

  private async writeValidationMessages(resources: readonly Resource[]): Promise<void> {
    const byObject = new Map<string, Diagnostic[]>();
    for (const d of analyzeResources(resources).diagnostics) {
      if (!d.resource) continue;
      const key = objectKey(d.resource.apiVersion ?? '', d.resource.kind, d.resource.namespace, d.resource.name);
      byObject.set(key, [...(byObject.get(key) ?? []), d]);
    }
    for (const r of resources) {
      if (!ISTIO_GROUPS.has(r.group)) continue;
      const type = this.o.store.typeOf(r.group, r.kind);
      if (!type) continue;
      const messages = (byObject.get(objectKey(r.apiVersion, r.kind, r.metadata.namespace, r.metadata.name)) ?? []).map(validationMessage);
      const seen = this.o.store.statusOf(type, r.metadata.namespace, r.metadata.name) as { validationMessages?: unknown } | undefined;
      // An object with no findings is written only to clear messages it carries (from this process or an earlier one).
      if (!messages.length && seen?.validationMessages === undefined) continue;
      await this.writeIfPresent(type, r.metadata.namespace, r.metadata.name, { validationMessages: messages.length ? messages : null });
    }
  }

  /**
   * A status write to an object deleted meanwhile is not an error; one that fails otherwise (forbidden: a GatewayClass
   * for a control plane without cluster-wide rights) is logged and does not stop the others (retried on the next change).
   */
  private async writeIfPresent(type: WatchedType, namespace: string, name: string, status: unknown): Promise<void> {
    await this.patcher.write(type, namespace, name, status).catch((err: unknown) => {
      if ((err as { status?: number }).status === 404) this.patcher.forget(type, namespace, name);
      else this.log(`kubernetes: writing the status of ${type.kind} ${namespace ? `${namespace}/` : ''}${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}

const objectKey = (apiVersion: string, kind: string, namespace: string, name: string) => `${apiVersion}|${kind}|${namespace}|${name}`;
