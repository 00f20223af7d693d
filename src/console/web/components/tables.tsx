// Tables shared by detail pages: the Istio config that applies, and the proxies with their sync state and certificate.

import { Label } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { linkProps } from '../router';
import type { ConfigRef, ConfigSummary, Proxies } from '../types';
import { ValidationIcon } from './status';

export function configHref(r: ConfigRef): string {
  return `/namespaces/${encodeURIComponent(r.namespace)}/istio/${encodeURIComponent(r.group)}/${encodeURIComponent(r.kind)}/${encodeURIComponent(r.name)}`;
}

export function ConfigTable({ items }: { items: ConfigSummary[] }) {
  if (items.length === 0) return <p className="trellis-muted">No Istio config applies.</p>;
  return (
    <Table aria-label="Istio config" variant="compact" data-test="config-table">
      <Thead>
        <Tr>
          <Th>Name</Th>
          <Th>Kind</Th>
          <Th>Namespace</Th>
          <Th>Validation</Th>
        </Tr>
      </Thead>
      <Tbody>
        {items.map((c) => (
          <Tr key={`${c.group}/${c.kind}/${c.namespace}/${c.name}`}>
            <Td dataLabel="Name">
              <a {...linkProps(configHref(c))}>{c.name}</a>
            </Td>
            <Td dataLabel="Kind">{c.kind}</Td>
            <Td dataLabel="Namespace">{c.namespace}</Td>
            <Td dataLabel="Validation">
              <ValidationIcon status={c.status} /> {c.validations.length ? c.validations.map((v) => v.code).join(', ') : ''}
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

const SYNC_COLOR: Record<string, 'green' | 'orange' | 'red' | 'grey'> = { SYNCED: 'green', STALE: 'orange', NACK: 'red', 'NOT SENT': 'grey', IGNORED: 'grey' };

function expiry(notAfter?: string): string {
  if (!notAfter) return 'expiry unknown';
  const days = (Date.parse(notAfter) - Date.now()) / 86400000;
  return `${new Date(notAfter).toISOString().replace('T', ' ').slice(0, 16)} UTC (${days >= 1 ? `in ${Math.floor(days)} days` : days > 0 ? `in ${Math.round(days * 24)} hours` : 'expired'})`;
}

export function ProxyTable({ proxies }: { proxies: Proxies }) {
  if (!Array.isArray(proxies)) return <p className="trellis-muted" data-test="proxies-unavailable">Unavailable: {proxies.unavailable}</p>;
  if (proxies.length === 0) return <p className="trellis-muted">No proxy of this workload is connected to the control plane.</p>;
  return (
    <Table aria-label="Proxy status" variant="compact" data-test="proxy-table">
      <Thead>
        <Tr>
          <Th>Pod</Th>
          <Th>Sync status (xDS)</Th>
          <Th>Certificate identity</Th>
          <Th>Certificate expires</Th>
        </Tr>
      </Thead>
      <Tbody>
        {proxies.map((p) => (
          <Tr key={p.id}>
            <Td dataLabel="Pod">{p.pod}</Td>
            <Td dataLabel="Sync status">
              {Object.entries(p.sync).map(([t, s]) => (
                <Label key={t} color={SYNC_COLOR[s] ?? 'grey'} isCompact style={{ marginRight: 4 }} data-test={`sync-${t}`}>
                  {t} {s}
                </Label>
              ))}
              {p.nackMessage ? <div className="trellis-error-text">{p.nackMessage}</div> : null}
            </Td>
            <Td dataLabel="Identity">
              <code data-test="cert-identity">{p.certificate?.identity ?? '–'}</code>
            </Td>
            <Td dataLabel="Expires">{expiry(p.certificate?.notAfter)}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
