// A workload's Logs and Envoy tabs, as Kiali has them: the last lines of a pod's app or proxy container, and the
// proxy's clusters, listeners and routes (the control plane's config dump, in istioctl's columns).

import { Alert, Tab, Tabs, TabTitleText } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { api } from '../api';
import { useData } from '../hooks';
import type { Proxies } from '../types';
import { Loading } from './page';
import { SimpleSelect } from './pickers';

const TAILS = ['50', '100', '500', '1000'].map((v) => ({ value: v, label: `last ${v} lines` }));

export function LogsPanel({ namespace, workload }: { namespace: string; workload: string }) {
  const pods = useData(() => api.pods(namespace, workload), [namespace, workload]);
  const items = pods.data?.items ?? [];
  const [pod, setPod] = useState('');
  const [container, setContainer] = useState('');
  const [tail, setTail] = useState('100');
  const current = items.find((p) => p.name === pod) ?? items[0];
  const c = current && current.containers.includes(container) ? container : current?.containers[0];
  const logs = useData(() => (current && c ? api.podLogs(namespace, current.name, c, Number(tail)) : Promise.resolve({ lines: [] })), [namespace, current?.name, c, tail], 5000);
  if (pods.data && items.length === 0) return <Alert variant="info" isInline isPlain title="No running pods: logs come from the runtime that runs them (trellis up)." data-test="no-pods" />;
  return (
    <Loading error={pods.error} loading={pods.loading && !pods.data}>
      {current && c ? (
        <>
          <div className="trellis-row" style={{ marginBottom: 8 }}>
            <SimpleSelect id="log-pod" prefix="Pod" value={current.name} options={items.map((p) => ({ value: p.name, label: p.name }))} onChange={setPod} />
            <SimpleSelect id="log-container" prefix="Container" value={c} options={current.containers.map((x) => ({ value: x, label: x }))} onChange={setContainer} />
            <SimpleSelect id="log-tail" value={tail} options={TAILS} onChange={setTail} />
          </div>
          <pre className="trellis-pre trellis-logs" data-test="log-lines" data-container={c}>
            {(logs.data?.lines ?? []).map((l) => `${new Date(l.time).toISOString().slice(11, 23)} ${l.stream === 'stderr' ? '!' : ' '} ${l.text}`).join('\n') || 'no output yet'}
          </pre>
        </>
      ) : null}
    </Loading>
  );
}

function EnvoyTable({ namespace, pod, resource }: { namespace: string; pod: string; resource: 'clusters' | 'listeners' | 'routes' }) {
  const { data, error, loading } = useData(() => api.envoyConfig(namespace, pod, resource), [namespace, pod, resource]);
  return (
    <Loading error={error} loading={loading && !data}>
      {data ? (
        <Table aria-label={resource} variant="compact" data-test={`envoy-${resource}`}>
          <Thead>
            <Tr>
              {data.headers.map((h) => (
                <Th key={h}>{h}</Th>
              ))}
            </Tr>
          </Thead>
          <Tbody>
            {data.rows.map((r, i) => (
              <Tr key={i}>
                {r.map((cell, j) => (
                  <Td key={j}>{cell}</Td>
                ))}
              </Tr>
            ))}
          </Tbody>
        </Table>
      ) : null}
    </Loading>
  );
}

export function EnvoyPanel({ namespace, proxies }: { namespace: string; proxies: Proxies }) {
  const [pod, setPod] = useState('');
  const [tab, setTab] = useState<'clusters' | 'listeners' | 'routes'>('clusters');
  if (!Array.isArray(proxies)) return <Alert variant="info" isInline isPlain title={proxies.unavailable} />;
  if (proxies.length === 0) return <Alert variant="info" isInline isPlain title="No proxy of this workload is connected to the control plane." data-test="no-proxy" />;
  const current = proxies.find((p) => p.pod === pod) ?? proxies[0]!;
  return (
    <>
      <SimpleSelect id="envoy-pod" prefix="Pod" value={current.pod} options={proxies.map((p) => ({ value: p.pod, label: p.pod }))} onChange={setPod} />
      <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k as typeof tab)} isSubtab mountOnEnter unmountOnExit>
        {(['clusters', 'listeners', 'routes'] as const).map((r) => (
          <Tab key={r} eventKey={r} title={<TabTitleText>{r[0]!.toUpperCase() + r.slice(1)}</TabTitleText>} data-test={`envoy-tab-${r}`}>
            <EnvoyTable namespace={namespace} pod={current.pod} resource={r} />
          </Tab>
        ))}
      </Tabs>
    </>
  );
}
