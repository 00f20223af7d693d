// Detail pages of an app, a workload and a service: health, the config that applies, proxies, metrics, actions.

import { Alert, Card, CardBody, CardTitle, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Dropdown, DropdownItem, DropdownList, Grid, GridItem, Label, MenuToggle, PageSection, Tab, Tabs, TabTitleText } from '@patternfly/react-core';
import { useState, type ReactNode } from 'react';
import { api } from '../api';
import { LineChart } from '../components/chart';
import { Loading, MetricsWarning, PageHeader } from '../components/page';
import { DURATIONS, SimpleSelect } from '../components/pickers';
import { errorPercent, formatPercent, formatRps, HealthIcon } from '../components/status';
import { ConfigTable, ProxyTable } from '../components/tables';
import { EnvoyPanel, LogsPanel } from '../components/pod-tabs';
import { DeleteRoutingDialog, ServiceWizard } from '../components/service-wizard';
import { AnnotationEditor } from '../components/wizards';
import { WIZARD_TITLES, type WizardKind } from '../../wizards/rules.js';
import { useCanWrite } from '../context';
import { useData } from '../hooks';
import { linkProps, useQueryParam } from '../router';
import type { Health, ServiceInfo, WorkloadInfo } from '../types';

type Kind = 'apps' | 'workloads' | 'services';

/** The service actions in Kiali's order; the Gateway API's (Kiali offers them when its CRDs are there: always here). */
const SERVICE_WIZARDS: WizardKind[] = ['request_routing', 'fault_injection', 'traffic_shifting', 'tcp_traffic_shifting', 'request_timeouts', 'k8s_request_routing', 'k8s_traffic_shifting'];

function MetricsPanel({ kind, namespace, name, direction, duration }: { kind: Kind; namespace: string; name: string; direction: 'inbound' | 'outbound'; duration: number }) {
  const { data, error, loading } = useData(() => api.metrics(kind, namespace, name, direction, duration), [kind, namespace, name, direction, duration], 15000);
  const get = (n: string) => data?.series.find((s) => s.name === n)?.points ?? [];
  return (
    <Loading error={error} loading={loading && !data}>
      {data ? (
        <Grid hasGutter md={6} data-test={`metrics-${direction}`}>
          <GridItem>
            <LineChart testId="chart-requests" title="Request volume" unit="rps" start={data.start} end={data.end} series={[{ name: 'requests', points: get('Request volume') }, { name: 'errors (4xx, 5xx)', points: get('Request errors') }]} />
          </GridItem>
          <GridItem>
            <LineChart testId="chart-duration" title="Request duration" unit="ms" start={data.start} end={data.end} series={[{ name: 'p50', points: get('Duration p50') }, { name: 'p95', points: get('Duration p95') }, { name: 'p99', points: get('Duration p99') }]} />
          </GridItem>
          <GridItem>
            <LineChart testId="chart-tcp" title="TCP traffic" unit="Bps" start={data.start} end={data.end} series={[{ name: 'sent', points: get('TCP sent') }, { name: 'received', points: get('TCP received') }]} />
          </GridItem>
        </Grid>
      ) : null}
    </Loading>
  );
}

function HealthSummary({ health }: { health: Health }) {
  return (
    <DescriptionList isHorizontal isCompact>
      <DescriptionListGroup>
        <DescriptionListTerm>Health</DescriptionListTerm>
        <DescriptionListDescription data-test="detail-health">
          <HealthIcon status={health.status} withText {...(health.reason ? { reason: health.reason } : {})} />
          {health.reason ? <span className="trellis-muted"> ({health.reason})</span> : null}
        </DescriptionListDescription>
      </DescriptionListGroup>
      <DescriptionListGroup>
        <DescriptionListTerm>Inbound</DescriptionListTerm>
        <DescriptionListDescription>
          {formatRps(health.inbound.total)}, {formatPercent(errorPercent(health.inbound))} errors
        </DescriptionListDescription>
      </DescriptionListGroup>
      <DescriptionListGroup>
        <DescriptionListTerm>Outbound</DescriptionListTerm>
        <DescriptionListDescription>
          {formatRps(health.outbound.total)}, {formatPercent(errorPercent(health.outbound))} errors
        </DescriptionListDescription>
      </DescriptionListGroup>
    </DescriptionList>
  );
}

function Labels({ labels }: { labels: Record<string, string> }) {
  return (
    <>
      {Object.entries(labels).map(([k, v]) => (
        <Label key={k} isCompact style={{ marginRight: 4 }}>
          {k}={v}
        </Label>
      ))}
    </>
  );
}

function Actions({ items }: { items: Array<{ key: string; label: string; onClick: () => void; danger?: boolean }> }) {
  const [open, setOpen] = useState(false);
  if (items.length === 0) return null;
  return (
    <Dropdown isOpen={open} onOpenChange={setOpen} onSelect={() => setOpen(false)} toggle={(ref) => <MenuToggle ref={ref} onClick={() => setOpen(!open)} isExpanded={open} variant="primary" data-test="actions-toggle">Actions</MenuToggle>} popperProps={{ position: 'right' }}>
      <DropdownList>
        {items.map((i) => (
          <DropdownItem key={i.key} onClick={i.onClick} data-test={`action-${i.key}`} {...(i.danger ? { isDanger: true } : {})}>
            {i.label}
          </DropdownItem>
        ))}
      </DropdownList>
    </Dropdown>
  );
}

function DetailTabs({ kind, namespace, name, overview, duration, extra = [] }: { kind: Kind; namespace: string; name: string; overview: ReactNode; duration: number; extra?: Array<{ key: string; title: string; body: ReactNode }> }) {
  const [tab, setTab] = useQueryParam('tab', 'info');
  const tabs = [
    { key: 'info', title: 'Overview', body: overview },
    { key: 'in_metrics', title: 'Inbound Metrics', test: 'tab-inbound', body: <MetricsPanel kind={kind} namespace={namespace} name={name} direction="inbound" duration={duration} /> },
    ...(kind !== 'services' ? [{ key: 'out_metrics', title: 'Outbound Metrics', test: 'tab-outbound', body: <MetricsPanel kind={kind} namespace={namespace} name={name} direction="outbound" duration={duration} /> }] : []),
    ...extra.map((t) => ({ ...t, test: `tab-${t.key}` })),
  ];
  return (
    <Tabs activeKey={tab} onSelect={(_e, k) => setTab(String(k))} mountOnEnter unmountOnExit>
      {tabs.map((t) => (
        <Tab key={t.key} eventKey={t.key} title={<TabTitleText>{t.title}</TabTitleText>} {...('test' in t ? { 'data-test': t.test } : {})}>
          <div className="trellis-tab">{t.body}</div>
        </Tab>
      ))}
    </Tabs>
  );
}

function InfoCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Card isCompact>
      <CardTitle>{title}</CardTitle>
      <CardBody>{children}</CardBody>
    </Card>
  );
}

function WorkloadLinks({ namespace, workloads }: { namespace: string; workloads: Array<WorkloadInfo & { health?: Health }> }) {
  return (
    <ul className="trellis-plain-list">
      {workloads.map((w) => (
        <li key={w.name}>
          {w.health ? <HealthIcon status={w.health.status} /> : null} <a {...linkProps(`/namespaces/${namespace}/workloads/${w.name}`)}>{w.name}</a> {w.sidecar ? null : <Label isCompact color="orange">no sidecar</Label>}
        </li>
      ))}
    </ul>
  );
}

function ServiceLinks({ namespace, services }: { namespace: string; services: ServiceInfo[] }) {
  return (
    <ul className="trellis-plain-list">
      {services.map((s) => (
        <li key={s.name}>
          <a {...linkProps(`/namespaces/${namespace}/services/${s.name}`)}>{s.name}</a>
        </li>
      ))}
    </ul>
  );
}

export function WorkloadPage({ namespace, name }: { namespace: string; name: string }) {
  const [duration, setDuration] = useQueryParam('duration', '600');
  const canWrite = useCanWrite();
  const [editing, setEditing] = useState(false);
  const { data, error, loading, reload } = useData(() => api.workload(namespace, name, Number(duration)), [namespace, name, duration], 15000);
  const w = data?.workload;
  return (
    <>
      <PageHeader title={<>Workload: {name}</>} subtitle={`Namespace ${namespace}`}>
        <SimpleSelect id="duration" value={duration} options={DURATIONS} onChange={setDuration} />
        {canWrite && w ? <Actions items={[{ key: 'annotations', label: 'Edit annotations', onClick: () => setEditing(true) }]} /> : null}
      </PageHeader>
      <PageSection>
        <Loading error={error} loading={loading && !data}>
          {data && w ? (
            <DetailTabs
              kind="workloads"
              namespace={namespace}
              name={name}
              duration={Number(duration)}
              extra={[
                { key: 'logs', title: 'Logs', body: <LogsPanel namespace={namespace} workload={name} /> },
                { key: 'envoy', title: 'Envoy', body: <EnvoyPanel namespace={namespace} proxies={data.proxies} /> },
              ]}
              overview={
                <Grid hasGutter>
                  <GridItem md={5}>
                    <InfoCard title="Workload">
                      <MetricsWarning message={data.metricsError} />
                      <DescriptionList isHorizontal isCompact>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Type</DescriptionListTerm>
                          <DescriptionListDescription>{w.kind}, {w.replicas} replica(s)</DescriptionListDescription>
                        </DescriptionListGroup>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Labels</DescriptionListTerm>
                          <DescriptionListDescription>
                            <Labels labels={w.labels} />
                          </DescriptionListDescription>
                        </DescriptionListGroup>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Annotations</DescriptionListTerm>
                          <DescriptionListDescription data-test="workload-annotations">{Object.keys(w.annotations).length ? <Labels labels={w.annotations} /> : <span className="trellis-muted">none</span>}</DescriptionListDescription>
                        </DescriptionListGroup>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Service account</DescriptionListTerm>
                          <DescriptionListDescription>{w.serviceAccount}</DescriptionListDescription>
                        </DescriptionListGroup>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Sidecar</DescriptionListTerm>
                          <DescriptionListDescription data-test="workload-sidecar">
                            {w.sidecar ? 'injected' : 'none'} <span className="trellis-muted">({w.sidecarReason})</span>
                          </DescriptionListDescription>
                        </DescriptionListGroup>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Data plane</DescriptionListTerm>
                          <DescriptionListDescription data-test="workload-dataplane">
                            {w.dataplaneMode === 'ambient' ? (
                              <Label isCompact color="blue">
                                ambient (ztunnel)
                              </Label>
                            ) : (
                              w.dataplaneMode
                            )}{' '}
                            <span className="trellis-muted">({w.dataplaneMode === 'sidecar' ? w.sidecarReason : w.ambientReason})</span>
                          </DescriptionListDescription>
                        </DescriptionListGroup>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Services</DescriptionListTerm>
                          <DescriptionListDescription>
                            <ServiceLinks namespace={namespace} services={data.services} />
                          </DescriptionListDescription>
                        </DescriptionListGroup>
                      </DescriptionList>
                      {w.app ? (
                        <p>
                          Application: <a {...linkProps(`/namespaces/${namespace}/applications/${w.app}`)}>{w.app}</a>
                        </p>
                      ) : null}
                    </InfoCard>
                  </GridItem>
                  <GridItem md={7}>
                    <InfoCard title="Health">
                      <HealthSummary health={data.health} />
                    </InfoCard>
                  </GridItem>
                  <GridItem md={12}>
                    <InfoCard title="Istio config">
                      <ConfigTable items={data.istioConfig} />
                    </InfoCard>
                  </GridItem>
                  <GridItem md={12}>
                    <InfoCard title="Proxy status and certificate">
                      <ProxyTable proxies={data.proxies} />
                    </InfoCard>
                  </GridItem>
                </Grid>
              }
            />
          ) : null}
        </Loading>
      </PageSection>
      {editing && w ? (
        <AnnotationEditor
          workload={w}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            reload();
          }}
        />
      ) : null}
    </>
  );
}

export function AppPage({ namespace, name }: { namespace: string; name: string }) {
  const [duration, setDuration] = useQueryParam('duration', '600');
  const { data, error, loading } = useData(() => api.app(namespace, name, Number(duration)), [namespace, name, duration], 15000);
  return (
    <>
      <PageHeader title={<>Application: {name}</>} subtitle={`Namespace ${namespace}`}>
        <SimpleSelect id="duration" value={duration} options={DURATIONS} onChange={setDuration} />
      </PageHeader>
      <PageSection>
        <Loading error={error} loading={loading && !data}>
          {data ? (
            <DetailTabs
              kind="apps"
              namespace={namespace}
              name={name}
              duration={Number(duration)}
              overview={
                <Grid hasGutter>
                  <GridItem md={5}>
                    <InfoCard title="Application">
                      <MetricsWarning message={data.metricsError} />
                      <p>Versions: {data.app.versions.join(', ') || 'none'}</p>
                      <p>Workloads:</p>
                      <WorkloadLinks namespace={namespace} workloads={data.workloads} />
                      <p>Services:</p>
                      <ServiceLinks namespace={namespace} services={data.services} />
                    </InfoCard>
                  </GridItem>
                  <GridItem md={7}>
                    <InfoCard title="Health">
                      <HealthSummary health={data.health} />
                    </InfoCard>
                  </GridItem>
                  <GridItem md={12}>
                    <InfoCard title="Istio config">
                      <ConfigTable items={data.istioConfig} />
                    </InfoCard>
                  </GridItem>
                  <GridItem md={12}>
                    <InfoCard title="Proxies">
                      <ProxyTable proxies={data.proxies} />
                    </InfoCard>
                  </GridItem>
                </Grid>
              }
            />
          ) : null}
        </Loading>
      </PageSection>
    </>
  );
}

export function ServicePage({ namespace, name }: { namespace: string; name: string }) {
  const [duration, setDuration] = useQueryParam('duration', '600');
  const canWrite = useCanWrite();
  const [wizard, setWizard] = useState<WizardKind | undefined>();
  const [deleting, setDeleting] = useState(false);
  const [applied, setApplied] = useState<{ title: string; files: string[] } | undefined>();
  const { data, error, loading, reload } = useData(() => api.service(namespace, name, Number(duration)), [namespace, name, duration], 15000);
  return (
    <>
      <PageHeader title={<>Service: {name}</>} subtitle={`Namespace ${namespace}`}>
        <SimpleSelect id="duration" value={duration} options={DURATIONS} onChange={setDuration} />
        {canWrite && data ? (
          <Actions
            items={[
              ...SERVICE_WIZARDS.map((k) => ({ key: k.replace(/_/g, '-'), label: WIZARD_TITLES[k], onClick: () => setWizard(k) })),
              { key: 'delete-traffic-routing', label: 'Delete Traffic Routing', onClick: () => setDeleting(true), danger: true },
            ]}
          />
        ) : null}
      </PageHeader>
      <PageSection>
        {applied ? (
          <Alert variant="success" isInline title={applied.title} data-test="wizard-applied" style={{ marginBottom: 12 }}>
            {applied.files.join(', ')}
          </Alert>
        ) : null}
        <Loading error={error} loading={loading && !data}>
          {data ? (
            <DetailTabs
              kind="services"
              namespace={namespace}
              name={name}
              duration={Number(duration)}
              overview={
                <Grid hasGutter>
                  <GridItem md={5}>
                    <InfoCard title="Service">
                      <MetricsWarning message={data.metricsError} />
                      <DescriptionList isHorizontal isCompact>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Type</DescriptionListTerm>
                          <DescriptionListDescription>{data.service.type}</DescriptionListDescription>
                        </DescriptionListGroup>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Ports</DescriptionListTerm>
                          <DescriptionListDescription>{data.service.ports.map((p) => `${p.name ?? ''} ${p.port}/${p.protocol}`).join(', ')}</DescriptionListDescription>
                        </DescriptionListGroup>
                        <DescriptionListGroup>
                          <DescriptionListTerm>Selector</DescriptionListTerm>
                          <DescriptionListDescription>
                            <Labels labels={data.service.selector} />
                          </DescriptionListDescription>
                        </DescriptionListGroup>
                      </DescriptionList>
                      <p>Workloads:</p>
                      <WorkloadLinks namespace={namespace} workloads={data.workloads} />
                    </InfoCard>
                  </GridItem>
                  <GridItem md={7}>
                    <InfoCard title="Health">
                      <HealthSummary health={data.health} />
                    </InfoCard>
                  </GridItem>
                  <GridItem md={12}>
                    <InfoCard title="Istio config">
                      <ConfigTable items={data.istioConfig} />
                    </InfoCard>
                  </GridItem>
                </Grid>
              }
            />
          ) : null}
        </Loading>
      </PageSection>
      {wizard && data ? (
        <ServiceWizard
          kind={wizard}
          namespace={namespace}
          service={name}
          workloads={data.workloads}
          onClose={() => setWizard(undefined)}
          onApplied={(files) => {
            setWizard(undefined);
            setApplied({ title: `${WIZARD_TITLES[wizard]} applied: written to`, files });
            reload();
          }}
        />
      ) : null}
      {deleting ? (
        <DeleteRoutingDialog
          namespace={namespace}
          service={name}
          onClose={() => setDeleting(false)}
          onDeleted={(gone) => {
            setDeleting(false);
            setApplied({ title: 'Traffic routing deleted', files: gone });
            reload();
          }}
        />
      ) : null}
    </>
  );
}
