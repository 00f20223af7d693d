// Kiali's service wizards in one dialog: the rules (what each wizard asks per route), the gateway and traffic-policy
// options, and the YAML preview of what Create writes (wizards/routing.ts builds it, the API validates it). The
// Gateway API wizards (K8s Request Routing, K8s Traffic Shifting) take the same rules and write an HTTPRoute whose
// backends are per-version Services; when a version has none, the dialog says so and shows the Services to apply.

import { Alert, Button, Checkbox, ExpandableSection, Form, FormGroup, Modal, ModalBody, ModalHeader, TextInput } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useMemo, useState } from 'react';
import { missingVersionServices, perVersionServicesYaml, versionServices } from '../../wizards/http-route.js';
import { checkWizard, wizardYaml } from '../../wizards/routing.js';
import { defaultRule, evenWeights, isGatewayApiWizard, isShifting, subsetsFor, WHOLE_SERVICE, WIZARD_TITLES, type GatewayApiBackends, type MatchOp, type RouteRule, type Subset, type TrafficPolicyInput, type WeightedRoute, type WizardKind } from '../../wizards/rules.js';
import type { GatewayAttachment } from '../../wizards/gateway.js';
import { api } from '../api';
import { useAction, useData } from '../hooks';
import type { WorkloadInfo } from '../types';
import { SimpleSelect } from './pickers';
import { ApplyError, DialogFooter, RemoveButton, WizardPreview } from './wizards';

const ALL = '*all*';
/** The service itself as a rule's target (Gateway API wizards: a backendRef to the service, every version). */
const WHOLE = '*service*';
const OPS = [
  { value: 'exact', label: 'exact' },
  { value: 'prefix', label: 'prefix' },
  { value: 'regex', label: 'regex' },
];

/** The weights of a rule that sends everything to one subset, to the service itself (WHOLE), or spread over all (ALL). */
function target(subsets: readonly Subset[], choice: string): WeightedRoute[] {
  if (choice === ALL) return evenWeights(subsets);
  return [{ subset: choice === WHOLE ? WHOLE_SERVICE : choice, weight: 100 }];
}

function targetOf(r: RouteRule): string {
  if (r.weights.length !== 1) return ALL;
  return r.weights[0]!.subset === WHOLE_SERVICE ? WHOLE : r.weights[0]!.subset;
}

/** Where a rule can send requests: one version, all of them (Istio's even split), or the service itself (Gateway API). */
function targetOptions(kind: WizardKind, subsets: Subset[]): Array<{ value: string; label: string }> {
  const versions = subsets.map((s) => ({ value: s.name, label: s.name }));
  if (kind === 'k8s_request_routing') return [{ value: WHOLE, label: 'the service (all versions)' }, ...versions];
  return kind === 'request_routing' ? versions : [{ value: ALL, label: 'all versions' }, ...versions];
}

/** Weights per subset, one row each, with their total (traffic shifting: HTTP, TCP, or to per-version Services). */
function WeightsTable({ subsets, workloads, weights, backends, onChange }: { subsets: Subset[]; workloads: WorkloadInfo[]; weights: WeightedRoute[]; backends?: GatewayApiBackends | undefined; onChange: (w: WeightedRoute[]) => void }) {
  const total = weights.reduce((a, w) => a + w.weight, 0);
  return (
    <Table aria-label="Weights" variant="compact">
      <Thead>
        <Tr>
          <Th>Version (subset)</Th>
          <Th>Workloads</Th>
          {backends ? <Th>Service</Th> : null}
          <Th>Weight %</Th>
        </Tr>
      </Thead>
      <Tbody>
        {subsets.map((s) => (
          <Tr key={s.name}>
            <Td>{s.name}</Td>
            <Td>{workloads.filter((w) => w.labels.version === s.name).map((w) => w.name).join(', ')}</Td>
            {backends ? <Td data-test={`backend-${s.name}`}>{backends.versions[s.name]?.name ?? <span className="trellis-muted">none</span>}</Td> : null}
            <Td>
              <TextInput
                type="number"
                aria-label={`weight of ${s.name}`}
                data-test={`weight-${s.name}`}
                value={weights.find((w) => w.subset === s.name)?.weight ?? 0}
                onChange={(_e, v) => onChange(subsets.map((x) => ({ subset: x.name, weight: x.name === s.name ? Math.round(Number(v) || 0) : (weights.find((w) => w.subset === x.name)?.weight ?? 0) })))}
                style={{ width: 90 }}
              />
            </Td>
          </Tr>
        ))}
        <Tr>
          <Td>
            <strong>Total</strong>
          </Td>
          <Td />
          {backends ? <Td /> : null}
          <Td data-test="weight-total">{total}%</Td>
        </Tr>
      </Tbody>
    </Table>
  );
}

/** One HTTP rule: its match, where it goes, and what the wizard adds to it (fault or timeouts). */
function RuleRow({ kind, index, rule, subsets, onChange, onRemove }: { kind: WizardKind; index: number; rule: RouteRule; subsets: Subset[]; onChange: (r: RouteRule) => void; onRemove?: () => void }) {
  const m = rule.match;
  const matchKind = m?.header ? 'header' : m?.uri ? 'uri' : 'any';
  const cond = m?.header ?? m?.uri;
  const setMatch = (k: string) => {
    const { match: _m, ...rest } = rule;
    onChange(k === 'header' ? { ...rest, match: { header: { name: 'end-user', op: 'exact', value: '' } } } : k === 'uri' ? { ...rest, match: { uri: { op: 'prefix', value: '/' } } } : rest);
  };
  const setCond = (patch: { name?: string; op?: MatchOp; value?: string }) => onChange({ ...rule, match: m?.header ? { header: { ...m.header, ...patch } } : { uri: { ...m!.uri!, ...patch } } });
  const num = (v: string) => Number(v);
  const d = `rule-${index}`;
  return (
    <FormGroup label={`Rule ${index + 1}`} fieldId={d} data-test={d}>
      <div className="trellis-row">
        <SimpleSelect id={`${d}-match`} value={matchKind} options={[{ value: 'any', label: 'any request' }, { value: 'header', label: 'header' }, { value: 'uri', label: 'URI' }]} onChange={setMatch} />
        {m?.header ? <TextInput aria-label="header name" data-test={`${d}-header`} value={m.header.name} onChange={(_e, v) => setCond({ name: v })} style={{ width: 120 }} /> : null}
        {cond ? <SimpleSelect id={`${d}-op`} value={cond.op} options={m?.header && isGatewayApiWizard(kind) ? OPS.filter((o) => o.value !== 'prefix') : OPS} onChange={(v) => setCond({ op: v as MatchOp })} /> : null}
        {cond ? <TextInput aria-label="value" data-test={`${d}-value`} value={cond.value} onChange={(_e, v) => setCond({ value: v })} style={{ width: 120 }} /> : null}
        <span>→</span>
        <SimpleSelect id={`${d}-subset`} value={targetOf(rule)} options={targetOptions(kind, subsets)} onChange={(v) => onChange({ ...rule, weights: target(subsets, v) })} />
        <RemoveButton onRemove={onRemove} />
      </div>
      {kind === 'fault_injection' ? (
        <div className="trellis-row" style={{ marginTop: 6 }}>
          <Checkbox id={`${d}-delay`} data-test={`${d}-delay`} label="Delay" isChecked={!!rule.fault?.delay} onChange={(_e, c) => onChange({ ...rule, fault: { ...rule.fault, delay: c ? { percent: 100, fixedDelay: '5s' } : undefined } })} />
          {rule.fault?.delay ? (
            <>
              <TextInput aria-label="delay percentage" data-test={`${d}-delay-percent`} type="number" value={rule.fault.delay.percent} onChange={(_e, v) => onChange({ ...rule, fault: { ...rule.fault, delay: { ...rule.fault!.delay!, percent: num(v) } } })} style={{ width: 80 }} />
              <span>% by</span>
              <TextInput aria-label="fixed delay" data-test={`${d}-delay-fixed`} value={rule.fault.delay.fixedDelay} onChange={(_e, v) => onChange({ ...rule, fault: { ...rule.fault, delay: { ...rule.fault!.delay!, fixedDelay: v } } })} style={{ width: 80 }} />
            </>
          ) : null}
          <Checkbox id={`${d}-abort`} data-test={`${d}-abort`} label="Abort" isChecked={!!rule.fault?.abort} onChange={(_e, c) => onChange({ ...rule, fault: { ...rule.fault, abort: c ? { percent: 100, httpStatus: 503 } : undefined } })} />
          {rule.fault?.abort ? (
            <>
              <TextInput aria-label="abort percentage" data-test={`${d}-abort-percent`} type="number" value={rule.fault.abort.percent} onChange={(_e, v) => onChange({ ...rule, fault: { ...rule.fault, abort: { ...rule.fault!.abort!, percent: num(v) } } })} style={{ width: 80 }} />
              <span>% with status</span>
              <TextInput aria-label="abort status" data-test={`${d}-abort-status`} type="number" value={rule.fault.abort.httpStatus} onChange={(_e, v) => onChange({ ...rule, fault: { ...rule.fault, abort: { ...rule.fault!.abort!, httpStatus: num(v) } } })} style={{ width: 80 }} />
            </>
          ) : null}
        </div>
      ) : null}
      {kind === 'request_timeouts' ? (
        <div className="trellis-row" style={{ marginTop: 6 }}>
          <Checkbox id={`${d}-timeout`} data-test={`${d}-timeout`} label="Timeout" isChecked={rule.timeout !== undefined} onChange={(_e, c) => { const { timeout: _t, ...rest } = rule; onChange(c ? { ...rest, timeout: '2s' } : rest); }} />
          {rule.timeout !== undefined ? <TextInput aria-label="timeout" data-test={`${d}-timeout-value`} value={rule.timeout} onChange={(_e, v) => onChange({ ...rule, timeout: v })} style={{ width: 80 }} /> : null}
          <Checkbox id={`${d}-retries`} data-test={`${d}-retries`} label="Retries" isChecked={!!rule.retries} onChange={(_e, c) => { const { retries: _r, ...rest } = rule; onChange(c ? { ...rest, retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,refused-stream' } } : rest); }} />
          {rule.retries ? (
            <>
              <TextInput aria-label="attempts" data-test={`${d}-attempts`} type="number" value={rule.retries.attempts} onChange={(_e, v) => onChange({ ...rule, retries: { ...rule.retries!, attempts: num(v) } })} style={{ width: 70 }} />
              <span>attempts of</span>
              <TextInput aria-label="per-try timeout" data-test={`${d}-per-try`} value={rule.retries.perTryTimeout ?? ''} onChange={(_e, v) => onChange({ ...rule, retries: { ...rule.retries!, perTryTimeout: v } })} style={{ width: 80 }} />
            </>
          ) : null}
        </div>
      ) : null}
    </FormGroup>
  );
}

/**
 * Kiali's "Add Gateway": a new one for this service, or one that exists; the hosts; whether the mesh keeps the routes.
 * For the Gateway API wizards the gateways are Kubernetes Gateways, and without one the route's parent is the service.
 */
function GatewayOptions({ kind, value, onChange }: { kind: WizardKind; value: GatewayAttachment | undefined; onChange: (g: GatewayAttachment | undefined) => void }) {
  const gateways = useData(() => api.istioConfig(), []);
  const group = isGatewayApiWizard(kind) ? 'gateway.networking.k8s.io' : 'networking.istio.io';
  const existing = (gateways.data?.items ?? []).filter((c) => c.kind === 'Gateway' && c.group === group).map((c) => `${c.namespace}/${c.name}`);
  const protocol = kind === 'tcp_traffic_shifting' ? 'TCP' : 'HTTP';
  const hosts = value?.hosts.join(', ') ?? '';
  return (
    <Form>
      <Checkbox id="gateway-add" data-test="gateway-add" label={isGatewayApiWizard(kind) ? 'Add a K8s Gateway (without one, the route is for the mesh: its parent is the service)' : 'Add a gateway'} isChecked={!!value} onChange={(_e, c) => onChange(c ? { mode: 'new', port: 80, protocol, hosts: ['*'], includeMesh: false } : undefined)} />
      {value ? (
        <>
          <div className="trellis-row">
            <SimpleSelect id="gateway-mode" value={value.mode} options={[{ value: 'new', label: 'Create a gateway' }, { value: 'existing', label: 'Use an existing gateway' }]} onChange={(v) => onChange(v === 'new' ? { mode: 'new', port: 80, protocol, hosts: value.hosts, includeMesh: value.includeMesh } : { mode: 'existing', gateway: existing[0] ?? '', hosts: value.hosts, includeMesh: value.includeMesh })} />
            {value.mode === 'new' ? <TextInput aria-label="gateway port" data-test="gateway-port" type="number" value={value.port} onChange={(_e, v) => onChange({ ...value, port: Number(v) })} style={{ width: 90 }} /> : null}
            {value.mode === 'existing' ? <SimpleSelect id="gateway-existing" value={value.gateway} options={existing.map((g) => ({ value: g, label: g }))} onChange={(v) => onChange({ ...value, gateway: v })} /> : null}
          </div>
          <FormGroup label="Hosts (comma-separated)" fieldId="gateway-hosts">
            <TextInput id="gateway-hosts" data-test="gateway-hosts" value={hosts} onChange={(_e, v) => onChange({ ...value, hosts: v.split(',').map((h) => h.trim()).filter(Boolean) })} />
          </FormGroup>
          <Checkbox id="gateway-mesh" data-test="gateway-mesh" label={isGatewayApiWizard(kind) ? 'Include the mesh (the service as a parent too: sidecars keep these routes)' : 'Include the mesh (sidecars keep these routes)'} isChecked={value.includeMesh} onChange={(_e, c) => onChange({ ...value, includeMesh: c })} />
        </>
      ) : null}
    </Form>
  );
}

function TrafficPolicyOptions({ value, onChange }: { value: TrafficPolicyInput; onChange: (t: TrafficPolicyInput) => void }) {
  return (
    <div className="trellis-row">
      <SimpleSelect id="tls-mode" prefix="TLS" value={value.tls ?? ''} options={[{ value: '', label: 'unset (auto mTLS)' }, { value: 'ISTIO_MUTUAL', label: 'ISTIO_MUTUAL' }, { value: 'DISABLE', label: 'DISABLE' }]} onChange={(v) => onChange({ ...value, tls: (v || undefined) as TrafficPolicyInput['tls'] })} />
      <SimpleSelect id="load-balancer" prefix="Load balancer" value={value.loadBalancer ?? ''} options={[{ value: '', label: 'unset' }, { value: 'ROUND_ROBIN', label: 'ROUND_ROBIN' }, { value: 'LEAST_REQUEST', label: 'LEAST_REQUEST' }, { value: 'RANDOM', label: 'RANDOM' }]} onChange={(v) => onChange({ ...value, loadBalancer: (v || undefined) as TrafficPolicyInput['loadBalancer'] })} />
    </div>
  );
}

function firstRules(kind: WizardKind, subsets: Subset[]): RouteRule[] {
  if (kind === 'request_routing') return [{ weights: [{ subset: subsets[0]?.name ?? '', weight: 100 }] }];
  // The service itself needs no per-version Service: a route that works for any service as it stands.
  if (kind === 'k8s_request_routing') return [{ weights: [{ subset: WHOLE_SERVICE, weight: 100 }] }];
  if (kind === 'fault_injection') return [{ ...defaultRule(subsets), fault: { abort: { percent: 100, httpStatus: 503 } } }];
  if (kind === 'request_timeouts') return [{ ...defaultRule(subsets), timeout: '2s' }];
  return [defaultRule(subsets)];
}

export function ServiceWizard({ kind, namespace, service, workloads, onClose, onApplied }: { kind: WizardKind; namespace: string; service: string; workloads: WorkloadInfo[]; onClose: () => void; onApplied: (files: string[]) => void }) {
  const subsets = useMemo(() => subsetsFor(workloads), [workloads]);
  const [rules, setRules] = useState<RouteRule[]>(() => firstRules(kind, subsets));
  const [gateway, setGateway] = useState<GatewayAttachment | undefined>();
  const [policy, setPolicy] = useState<TrafficPolicyInput>({});
  const gatewayApi = isGatewayApiWizard(kind);
  // Gateway API weights go to per-version Services: found among the namespace's Services by the workloads they select.
  const services = useData(() => (gatewayApi ? api.services(namespace) : Promise.resolve(undefined)), [namespace, gatewayApi]);
  const self = services.data?.items.find((s) => s.name === service);
  const backends = useMemo(() => (self && services.data ? versionServices(self, services.data.items, workloads) : undefined), [self, services.data, workloads]);
  const input = { kind, namespace, service, subsets, rules, ...(gateway ? { gateway } : {}), ...(gatewayApi ? (backends ? { backends } : {}) : { trafficPolicy: policy }) };
  const problem = gatewayApi && !backends ? (services.error ? `the services of ${namespace} could not be read: ${services.error.message}` : 'reading the services…') : checkWizard(input);
  const missing = gatewayApi && backends ? missingVersionServices(input) : [];
  const yaml = problem ? '' : wizardYaml(input);
  const shifting = isShifting(kind);
  const { busy, error, run: create } = useAction(async () => {
    const r = await api.applyConfig(yaml, namespace);
    onApplied(r.applied.map((a) => a.file));
  });
  const title = WIZARD_TITLES[kind];
  return (
    <Modal isOpen onClose={onClose} variant="large" aria-label={title} data-test="wizard" data-wizard={kind}>
      <ModalHeader
        title={`${title}: ${service}`}
        description={
          gatewayApi
            ? `Creates an HTTPRoute (Gateway API) named ${service}, whose backends are the service or its per-version Services; its parent is the service itself (a mesh route) unless a K8s Gateway is added${gateway?.mode === 'new' ? ', and a Gateway' : ''}.`
            : `Creates a VirtualService and a DestinationRule with one subset per version label${gateway?.mode === 'new' ? ', and a Gateway' : ''}.`
        }
      />
      <ModalBody>
        {kind === 'k8s_request_routing' ? <Alert variant="info" isInline isPlain title="The Gateway API ranks matches by its precedence (an exact path, then the longest prefix, method, the most headers, query parameters), not by the order of the rules." style={{ marginBottom: 8 }} /> : null}
        {shifting ? (
          <WeightsTable subsets={subsets} workloads={workloads} weights={rules[0]?.weights ?? []} backends={gatewayApi ? backends : undefined} onChange={(weights) => setRules([{ weights }])} />
        ) : (
          <Form>
            {rules.map((r, i) => (
              <RuleRow key={i} kind={kind} index={i} rule={r} subsets={subsets} onChange={(x) => setRules(rules.map((y, j) => (j === i ? x : y)))} {...(rules.length > 1 ? { onRemove: () => setRules(rules.filter((_y, j) => j !== i)) } : {})} />
            ))}
            <div>
              <Button variant="secondary" data-test="add-rule" onClick={() => setRules([{ match: { header: { name: 'end-user', op: 'exact', value: 'jason' } }, weights: kind === 'request_routing' ? [{ subset: subsets[subsets.length - 1]?.name ?? '', weight: 100 }] : evenWeights(subsets) }, ...rules])}>
                Add rule
              </Button>
            </div>
          </Form>
        )}
        <ExpandableSection toggleText="Advanced options" style={{ marginTop: 12 }} data-test="advanced">
          <GatewayOptions kind={kind} value={gateway} onChange={setGateway} />
          <div style={{ marginTop: 12 }}>
            {gatewayApi ? null : <TrafficPolicyOptions value={policy} onChange={setPolicy} />}
          </div>
        </ExpandableSection>
        <WizardPreview problem={problem} yaml={yaml}>
          {missing.length && self ? (
            <pre className="trellis-pre" data-test="wizard-missing-services">
              {perVersionServicesYaml(self, missing)}
            </pre>
          ) : null}
        </WizardPreview>
        <ApplyError error={error} />
      </ModalBody>
      <DialogFooter label="Create" testId="wizard-create" busy={busy} disabled={!!problem} onConfirm={create} onCancel={onClose} />
    </Modal>
  );
}

/** Kiali's "Delete Traffic Routing": what goes (the server's list), then delete. */
export function DeleteRoutingDialog({ namespace, service, onClose, onDeleted }: { namespace: string; service: string; onClose: () => void; onDeleted: (files: string[]) => void }) {
  const list = useData(() => api.trafficRouting(namespace, service), [namespace, service]);
  const objects = list.data?.objects ?? [];
  const { busy, error, run: remove } = useAction(async () => {
    const r = await api.deleteTrafficRouting(namespace, service);
    onDeleted(r.applied.map((a) => `${a.kind} ${a.name} (${a.file})`));
  });
  return (
    <Modal isOpen onClose={onClose} variant="small" aria-label="Delete Traffic Routing" data-test="delete-routing">
      <ModalHeader title={`Delete Traffic Routing: ${service}`} titleIconVariant="warning" />
      <ModalBody>
        {list.error ? <ApplyError error={list.error} /> : null}
        {list.data && objects.length === 0 ? <p>{service} has no VirtualService or DestinationRule of its own.</p> : null}
        {objects.length ? (
          <>
            <p>These objects will be deleted from their files:</p>
            <ul className="trellis-plain-list" data-test="delete-routing-list">
              {objects.map((o) => (
                <li key={`${o.kind}/${o.name}`}>
                  {o.kind} <strong>{o.name}</strong> <span className="trellis-muted">{o.source?.file}</span>
                </li>
              ))}
            </ul>
          </>
        ) : null}
        <ApplyError error={error} />
      </ModalBody>
      <DialogFooter label="Delete" testId="delete-routing-confirm" busy={busy} disabled={objects.length === 0} danger onConfirm={remove} onCancel={onClose} />
    </Modal>
  );
}
