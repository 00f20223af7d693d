// Applications, workloads and services lists with health and the Istio config that applies (Kiali's list pages).

import { Label, PageSection } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import type { ReactNode } from 'react';
import { api } from '../api';
import { Loading, MetricsWarning, PageHeader } from '../components/page';
import { DURATIONS, SimpleSelect } from '../components/pickers';
import { ValidationIcon, HealthIcon } from '../components/status';
import { configHref } from '../components/tables';
import { useData } from '../hooks';
import { linkProps, useQueryParam } from '../router';
import type { AppItem, ConfigBadge, Health, ServiceItem, WorkloadItem } from '../types';

export type ListKind = 'applications' | 'workloads' | 'services';

function ConfigBadges({ items }: { items: ConfigBadge[] }) {
  return (
    <>
      {items.map((c) => (
        <a key={`${c.kind}/${c.name}`} {...linkProps(configHref(c))} className="trellis-badge-link">
          <Label isCompact icon={<ValidationIcon status={c.status} />}>
            {c.kind === 'VirtualService' ? 'VS' : c.kind === 'DestinationRule' ? 'DR' : c.kind} {c.name}
          </Label>
        </a>
      ))}
    </>
  );
}

interface Column<T> {
  title: string;
  cell: (item: T) => ReactNode;
}

function healthCell(h: Health) {
  return <HealthIcon status={h.status} {...(h.reason ? { reason: h.reason } : {})} />;
}

const APP_COLUMNS: Array<Column<AppItem>> = [
  { title: 'Health', cell: (a) => healthCell(a.health) },
  { title: 'Name', cell: (a) => <a {...linkProps(`/namespaces/${a.namespace}/applications/${a.name}`)}>{a.name}</a> },
  { title: 'Namespace', cell: (a) => a.namespace },
  { title: 'Versions', cell: (a) => a.versions.join(', ') },
  { title: 'Workloads', cell: (a) => a.workloads.join(', ') },
  { title: 'Details', cell: (a) => <ConfigBadges items={a.istioConfig} /> },
];

const WORKLOAD_COLUMNS: Array<Column<WorkloadItem>> = [
  { title: 'Health', cell: (w) => healthCell(w.health) },
  { title: 'Name', cell: (w) => <a {...linkProps(`/namespaces/${w.namespace}/workloads/${w.name}`)}>{w.name}</a> },
  { title: 'Namespace', cell: (w) => w.namespace },
  { title: 'Type', cell: (w) => w.kind },
  { title: 'Labels', cell: (w) => [w.app && `app=${w.app}`, w.version && `version=${w.version}`].filter(Boolean).join(' ') },
  {
    title: 'Data plane',
    cell: (w) =>
      w.dataplaneMode === 'sidecar' ? (
        <Label isCompact color="green">sidecar</Label>
      ) : w.dataplaneMode === 'ambient' ? (
        <Label isCompact color="blue" data-test="ambient-badge">
          ambient
        </Label>
      ) : (
        <Label isCompact color="orange">no sidecar</Label>
      ),
  },
];

const SERVICE_COLUMNS: Array<Column<ServiceItem>> = [
  { title: 'Health', cell: (s) => healthCell(s.health) },
  { title: 'Name', cell: (s) => <a {...linkProps(`/namespaces/${s.namespace}/services/${s.name}`)}>{s.name}</a> },
  { title: 'Namespace', cell: (s) => s.namespace },
  { title: 'Ports', cell: (s) => s.ports.map((p) => `${p.name ?? ''}/${p.port}`).join(', ') },
  { title: 'Workloads', cell: (s) => s.workloads.join(', ') },
  { title: 'Details', cell: (s) => <ConfigBadges items={s.istioConfig} /> },
];

function ListTable<T extends { namespace: string; name: string }>({ kind, items, columns }: { kind: string; items: T[]; columns: Array<Column<T>> }) {
  return (
    <Table aria-label={kind} variant="compact" data-test={`${kind}-table`}>
      <Thead>
        <Tr>
          {columns.map((c) => (
            <Th key={c.title}>{c.title}</Th>
          ))}
        </Tr>
      </Thead>
      <Tbody>
        {items.map((it) => (
          <Tr key={`${it.namespace}/${it.name}`} data-test={`row-${it.name}`}>
            {columns.map((c) => (
              <Td key={c.title} dataLabel={c.title}>
                {c.cell(it)}
              </Td>
            ))}
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

export function ListPage({ kind }: { kind: ListKind }) {
  const [namespace, setNamespace] = useQueryParam('namespace', '');
  const [duration, setDuration] = useQueryParam('duration', '60');
  const namespaces = useData(() => api.namespaces(), []);
  const ns = namespace || undefined;
  const d = Number(duration);
  const list = useData<{ items: unknown[]; metricsError?: string }>(() => (kind === 'applications' ? api.apps(ns, d) : kind === 'workloads' ? api.workloads(ns, d) : api.services(ns, d)), [kind, namespace, duration], 15000);
  const title = { applications: 'Applications', workloads: 'Workloads', services: 'Services' }[kind];
  const nsOptions = [{ value: '', label: 'All namespaces' }, ...(namespaces.data ?? []).map((n) => ({ value: n.name, label: n.name }))];
  return (
    <>
      <PageHeader title={title}>
        <SimpleSelect id="namespace" value={namespace} options={nsOptions} onChange={setNamespace} prefix="Namespace" />
        <SimpleSelect id="duration" value={duration} options={DURATIONS} onChange={setDuration} />
      </PageHeader>
      <PageSection>
        <Loading error={list.error} loading={list.loading && !list.data}>
          <MetricsWarning message={list.data?.metricsError} />
          {list.data ? (
            kind === 'applications' ? (
              <ListTable kind={kind} items={list.data.items as AppItem[]} columns={APP_COLUMNS} />
            ) : kind === 'workloads' ? (
              <ListTable kind={kind} items={list.data.items as WorkloadItem[]} columns={WORKLOAD_COLUMNS} />
            ) : (
              <ListTable kind={kind} items={list.data.items as ServiceItem[]} columns={SERVICE_COLUMNS} />
            )
          ) : null}
        </Loading>
      </PageSection>
    </>
  );
}
