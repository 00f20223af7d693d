// Traffic graph page: namespaces, graph type, edge labels, time range and refresh in the URL; details on click.

import { Button, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, EmptyState, EmptyStateBody, PageSection, Switch, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import SyncAltIcon from '@patternfly/react-icons/dist/esm/icons/sync-alt-icon';
import { useEffect } from 'react';
import { api } from '../api';
import { Loading, PageHeader } from '../components/page';
import { DURATIONS, NamespacePicker, REFRESH, SimpleSelect } from '../components/pickers';
import { errorPercent, formatBytes, formatMs, formatPercent, formatRps, HealthIcon } from '../components/status';
import { useData } from '../hooks';
import { linkProps, useQueryParam } from '../router';
import type { GraphEdgeData, GraphNodeData, GraphType } from '../types';
import { GraphView, nodeLabel, type EdgeLabelMode } from './graph-view';

const GRAPH_TYPES = [
  { value: 'versionedApp', label: 'Versioned app graph' },
  { value: 'app', label: 'App graph' },
  { value: 'workload', label: 'Workload graph' },
  { value: 'service', label: 'Service graph' },
];
const EDGE_LABELS = [
  { value: 'rps', label: 'Request rate' },
  { value: 'errors', label: 'Request error %' },
  { value: 'responseTime', label: 'Response time (p95)' },
  { value: 'none', label: 'No edge labels' },
];

function nodeHref(d: GraphNodeData): string | undefined {
  if (d.nodeType === 'unknown' || d.isOutside) return undefined;
  if (d.nodeType === 'service') return `/namespaces/${d.namespace}/services/${d.service}`;
  if (d.workload) return `/namespaces/${d.namespace}/workloads/${d.workload}`;
  if (d.app) return `/namespaces/${d.namespace}/applications/${d.app}`;
  return undefined;
}

function Row({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <DescriptionListGroup>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{children}</DescriptionListDescription>
    </DescriptionListGroup>
  );
}

function NodeDetails({ d }: { d: GraphNodeData }) {
  const href = nodeHref(d);
  const { label, secondary } = nodeLabel(d);
  return (
    <>
      <Title headingLevel="h3" data-test="side-panel-title">
        {label} {secondary ?? ''}
      </Title>
      <DescriptionList isCompact isHorizontal>
        <Row term="Type">{d.isZtunnel ? 'node proxy (ztunnel)' : d.isWaypoint ? `${d.nodeType} (waypoint)` : d.isGateway ? `${d.nodeType} (gateway)` : d.nodeType}</Row>
        <Row term="Namespace">{d.namespace}</Row>
        {d.workload ? <Row term="Workload">{d.workload}</Row> : null}
        {d.destServices?.length ? <Row term="Services">{d.destServices.join(', ')}</Row> : null}
        <Row term="Health">
          <HealthIcon status={d.health} withText {...(d.healthReason ? { reason: d.healthReason } : {})} />
        </Row>
        <Row term="HTTP in">
          {formatRps(d.traffic.httpIn.total)} ({formatPercent(errorPercent(d.traffic.httpIn))} errors)
        </Row>
        <Row term="HTTP out">
          {formatRps(d.traffic.httpOut.total)} ({formatPercent(errorPercent(d.traffic.httpOut))} errors)
        </Row>
        {d.traffic.tcpIn || d.traffic.tcpOut ? <Row term="TCP">in {formatBytes(d.traffic.tcpIn)}, out {formatBytes(d.traffic.tcpOut)}</Row> : null}
      </DescriptionList>
      {href ? (
        <p style={{ marginTop: 12 }}>
          <a {...linkProps(href)}>Go to details</a>
        </p>
      ) : null}
    </>
  );
}

function EdgeDetails({ d, nodes }: { d: GraphEdgeData; nodes: Map<string, GraphNodeData> }) {
  const name = (id: string) => {
    const n = nodes.get(id);
    return n ? [nodeLabel(n).label, nodeLabel(n).secondary].filter(Boolean).join(' ') : id;
  };
  const total = Object.values(d.responses).reduce((a, f) => a + Object.values(f).reduce((x, y) => x + y, 0), 0);
  return (
    <>
      <Title headingLevel="h3" data-test="side-panel-title">
        {name(d.source)} → {name(d.target)}
      </Title>
      <DescriptionList isCompact isHorizontal>
        <Row term="Protocol">{d.protocol}</Row>
        {d.protocol === 'tcp' ? <Row term="Traffic">{formatBytes(d.tcpBps)}</Row> : <Row term="Request rate">{formatRps(d.rps)}</Row>}
        {d.protocol !== 'tcp' ? <Row term="Errors">{formatPercent(d.errorRate)}</Row> : null}
        {d.responseTimeMs !== undefined ? <Row term="Response time (p95)">{formatMs(d.responseTimeMs)}</Row> : null}
        <Row term="mTLS">{d.isMTLS !== undefined ? `${d.isMTLS.toFixed(0)}% of traffic` : 'none'}</Row>
        {d.sourcePrincipal ? <Row term="Source principal">{d.sourcePrincipal}</Row> : null}
        {d.destPrincipal ? <Row term="Destination principal">{d.destPrincipal}</Row> : null}
        {d.hosts.length ? <Row term="Hosts">{d.hosts.join(', ')}</Row> : null}
      </DescriptionList>
      {d.protocol !== 'tcp' ? (
        <Table aria-label="Responses" variant="compact" style={{ marginTop: 12 }}>
          <Thead>
            <Tr>
              <Th>Code</Th>
              <Th>Flags</Th>
              <Th>% of requests</Th>
            </Tr>
          </Thead>
          <Tbody>
            {Object.entries(d.responses).flatMap(([code, flags]) =>
              Object.entries(flags).map(([f, v]) => (
                <Tr key={`${code}${f}`}>
                  <Td>{code}</Td>
                  <Td>{f}</Td>
                  <Td>{total > 0 ? formatPercent((v / total) * 100) : '–'}</Td>
                </Tr>
              )),
            )}
          </Tbody>
        </Table>
      ) : null}
    </>
  );
}

export function GraphPage() {
  const [nsParam, setNsParam] = useQueryParam('namespaces', '');
  const [graphType, setGraphType] = useQueryParam('graphType', 'versionedApp');
  const [edgeLabels, setEdgeLabels] = useQueryParam('edges', 'rps');
  const [duration, setDuration] = useQueryParam('duration', '60');
  const [refresh, setRefresh] = useQueryParam('refresh', '10000');
  const [security, setSecurity] = useQueryParam('security', 'true');
  const [serviceNodes, setServiceNodes] = useQueryParam('injectServiceNodes', 'true');
  const all = useData(() => api.namespaces(), []);
  const selected = nsParam.split(',').filter(Boolean);

  // With no namespace in the URL, start with the first application namespace (as Kiali starts with the current one).
  useEffect(() => {
    if (selected.length === 0 && all.data?.length) {
      const first = all.data.find((n) => n.name !== 'istio-system') ?? all.data[0]!;
      setNsParam(first.name);
    }
  }, [all.data, selected.length, setNsParam]);

  const graph = useData(
    () => (selected.length ? api.graph({ namespaces: selected, graphType: graphType as GraphType, duration: Number(duration), injectServiceNodes: serviceNodes === 'true' }) : Promise.resolve(undefined)),
    [nsParam, graphType, duration, serviceNodes],
    Number(refresh),
  );
  const nodes = new Map((graph.data?.elements.nodes ?? []).map((n) => [n.data.id, n.data]));
  return (
    <div className="trellis-graph-page">
      <PageHeader title="Traffic Graph">
        <NamespacePicker all={(all.data ?? []).map((n) => n.name)} selected={selected} onChange={(v) => setNsParam(v.join(','))} />
        <SimpleSelect id="graph-type" value={graphType} options={GRAPH_TYPES} onChange={setGraphType} />
        <SimpleSelect id="edge-labels" value={edgeLabels} options={EDGE_LABELS} onChange={setEdgeLabels} />
        <Switch id="security" label="Security" isChecked={security === 'true'} onChange={(_e, c) => setSecurity(c ? 'true' : 'false')} />
        <Switch id="service-nodes" label="Service nodes" isChecked={serviceNodes === 'true'} onChange={(_e, c) => setServiceNodes(c ? 'true' : 'false')} />
        <SimpleSelect id="duration" value={duration} options={DURATIONS} onChange={setDuration} />
        <SimpleSelect id="refresh" value={refresh} options={REFRESH} onChange={setRefresh} />
        <Button variant="plain" aria-label="Refresh" onClick={graph.reload} icon={<SyncAltIcon />} data-test="graph-refresh" />
      </PageHeader>
      <PageSection isFilled padding={{ default: 'noPadding' }} className="trellis-graph-section">
        <Loading error={graph.error} loading={graph.loading && !graph.data}>
          {graph.data && graph.data.elements.nodes.length > 0 ? (
            <div className="trellis-graph" data-test="graph" data-graph-type={graph.data.graphType} data-timestamp={graph.data.timestamp}>
              <GraphView
                graph={graph.data}
                labelMode={edgeLabels as EdgeLabelMode}
                showSecurity={security === 'true'}
                renderDetails={({ node, edge }) => (node ? <NodeDetails d={node} /> : edge ? <EdgeDetails d={edge} nodes={nodes} /> : null)}
              />
            </div>
          ) : graph.data ? (
            <EmptyState titleText="Empty graph" headingLevel="h2" data-test="graph-empty">
              <EmptyStateBody>No traffic in {selected.join(', ')} during the selected time range.</EmptyStateBody>
            </EmptyState>
          ) : null}
        </Loading>
      </PageSection>
    </div>
  );
}
