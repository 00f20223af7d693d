// Gateway API status as the control plane computes it: a one-line summary for lists (Programmed, Accepted, or the
// first condition that is not), and the full conditions of a Gateway (addresses, listeners) or a route (per parent).

import { Alert, Card, CardBody, CardTitle, Label } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import type { GatewayStatus, ListReplyStatusSource, ObjectStatus, RouteStatus, StatusCondition } from '../types';

type AnyStatus = ObjectStatus['status'];

const isGateway = (s: AnyStatus): s is GatewayStatus => 'listeners' in s;
const isRoute = (s: AnyStatus): s is RouteStatus => 'parents' in s;

/** A condition is good when True — except Conflicted, which is good when False. */
const good = (c: StatusCondition) => (c.type === 'Conflicted' ? c.status === 'False' : c.status === 'True');

/** The summary a list shows: the state that matters, or the first problem with its reason. */
export function statusSummary(s: AnyStatus): { ok: boolean; text: string } {
  if (isGateway(s)) {
    const bad = [...s.conditions, ...s.listeners.flatMap((l) => l.conditions)].find((c) => !good(c));
    return bad ? { ok: false, text: `${bad.type === 'Programmed' ? 'Not programmed' : `${bad.type} ${bad.status}`}: ${bad.reason}` } : { ok: true, text: 'Programmed' };
  }
  if (isRoute(s)) {
    if (s.parents.length === 0) return { ok: false, text: 'No parent' };
    for (const p of s.parents) {
      const bad = p.conditions.find((c) => !good(c));
      if (bad) return { ok: false, text: `${bad.type === 'Accepted' ? 'Not accepted' : `${bad.type} ${bad.status}`}: ${bad.reason} (${p.parentRef.kind ?? 'Gateway'} ${p.parentRef.name})` };
    }
    return { ok: true, text: 'Accepted' };
  }
  const bad = s.conditions.find((c) => !good(c));
  return bad ? { ok: false, text: `${bad.type} ${bad.status}: ${bad.reason}` } : { ok: true, text: 'Accepted' };
}

export function GatewayApiStatusLabel({ status, testId }: { status: AnyStatus | undefined; testId?: string }) {
  if (!status) return null;
  const s = statusSummary(status);
  return (
    <Label isCompact color={s.ok ? 'green' : 'orange'} data-test={testId ?? 'k8s-status'}>
      {s.text}
    </Label>
  );
}

/** Where the status comes from, said once above a list or card (a running control plane, or the files alone). */
export function StatusSourceNote({ source }: { source: ListReplyStatusSource | undefined }) {
  if (!source || source.source === 'control-plane') return null;
  return <Alert isInline isPlain variant={source.source === 'files' ? 'info' : 'warning'} title={`Gateway API status: ${source.message ?? source.source}`} data-test="status-source" style={{ marginBottom: 8 }} />;
}

function Conditions({ conditions, testId }: { conditions: StatusCondition[]; testId: string }) {
  return (
    <Table aria-label="Conditions" variant="compact" data-test={testId}>
      <Thead>
        <Tr>
          <Th>Type</Th>
          <Th>Status</Th>
          <Th>Reason</Th>
          <Th>Message</Th>
          <Th>Last transition</Th>
        </Tr>
      </Thead>
      <Tbody>
        {conditions.map((c) => (
          <Tr key={c.type} data-test={`condition-${c.type}`}>
            <Td>{c.type}</Td>
            <Td>
              <Label isCompact color={good(c) ? 'green' : 'orange'}>
                {c.status}
              </Label>
            </Td>
            <Td>{c.reason}</Td>
            <Td>{c.message}</Td>
            <Td>{c.lastTransitionTime ?? '–'}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

/** The detail page's card: every condition, by where it sits, with the source of the status. */
export function GatewayApiStatusCard({ status, source }: { status: AnyStatus; source: ListReplyStatusSource | undefined }) {
  return (
    <Card isCompact data-test="k8s-status-card" style={{ marginBottom: 16 }}>
      <CardTitle>
        Status <GatewayApiStatusLabel status={status} testId="k8s-status-summary" />
      </CardTitle>
      <CardBody>
        <StatusSourceNote source={source} />
        {isGateway(status) ? (
          <>
            <p data-test="k8s-status-addresses">Addresses: {status.addresses.map((a) => a.value).join(', ') || 'none'}</p>
            <Conditions conditions={status.conditions} testId="gateway-conditions" />
            {status.listeners.map((l) => (
              <div key={l.name} style={{ marginTop: 12 }} data-test={`listener-${l.name}`}>
                <strong>Listener {l.name}</strong> <span className="trellis-muted">attached routes: {l.attachedRoutes}; kinds: {l.supportedKinds.map((k) => k.kind).join(', ') || 'none'}</span>
                <Conditions conditions={l.conditions} testId={`listener-${l.name}-conditions`} />
              </div>
            ))}
          </>
        ) : isRoute(status) ? (
          status.parents.map((p, i) => (
            <div key={i} style={{ marginTop: i ? 12 : 0 }} data-test={`parent-${p.parentRef.name}`}>
              <strong>
                Parent {p.parentRef.kind ?? 'Gateway'} {p.parentRef.namespace ? `${p.parentRef.namespace}/` : ''}
                {p.parentRef.name}
                {p.parentRef.sectionName ? ` (${p.parentRef.sectionName})` : ''}
              </strong>{' '}
              <span className="trellis-muted">{p.controllerName}</span>
              <Conditions conditions={p.conditions} testId={`parent-${p.parentRef.name}-conditions`} />
            </div>
          ))
        ) : (
          <Conditions conditions={status.conditions} testId="class-conditions" />
        )}
      </CardBody>
    </Card>
  );
}
