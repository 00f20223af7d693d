// Overview: one card per namespace with its apps' health, mTLS and inbound traffic (Kiali's landing page).

import { Card, CardBody, CardFooter, CardTitle, Gallery, Label, PageSection } from '@patternfly/react-core';
import { api } from '../api';
import { Sparkline } from '../components/chart';
import { Loading, MetricsWarning, PageHeader } from '../components/page';
import { DURATIONS, REFRESH, SimpleSelect } from '../components/pickers';
import { formatRps, HealthIcon, MtlsLabel } from '../components/status';
import { useData } from '../hooks';
import { linkProps, useQueryParam } from '../router';
import type { HealthStatus } from '../types';

export function OverviewPage() {
  const [duration, setDuration] = useQueryParam('duration', '60');
  const [refresh, setRefresh] = useQueryParam('refresh', '15000');
  const { data, error, loading } = useData(() => api.overview(Number(duration)), [duration], Number(refresh));
  return (
    <>
      <PageHeader title="Overview">
        <SimpleSelect id="duration" value={duration} options={DURATIONS} onChange={setDuration} />
        <SimpleSelect id="refresh" value={refresh} options={REFRESH} onChange={setRefresh} />
      </PageHeader>
      <PageSection>
        <Loading error={error} loading={loading && !data}>
          <MetricsWarning message={data?.metricsError} />
          <Gallery hasGutter minWidths={{ default: '320px' }}>
            {data?.items.map((n) => (
              <Card key={n.namespace.name} data-test={`namespace-card-${n.namespace.name}`}>
                <CardTitle>{n.namespace.name}</CardTitle>
                <CardBody>
                  <div className="trellis-card-line">
                    <a {...linkProps(`/applications?namespace=${n.namespace.name}`)}>{n.apps} applications</a>
                    <span className="trellis-health-counts">
                      {(['Failure', 'Degraded', 'Healthy', 'NA'] as HealthStatus[]).map((s) =>
                        n.health[s] ? (
                          <span key={s} data-test={`count-${s}`}>
                            <HealthIcon status={s} /> {n.health[s]}
                          </span>
                        ) : null,
                      )}
                    </span>
                  </div>
                  <div className="trellis-card-line">
                    {n.workloads} workloads · {n.services} services
                  </div>
                  <div className="trellis-card-line" data-test="mesh-of-namespace">
                    {n.namespace.controlPlane ? `Mesh: ${n.namespace.controlPlane}` : 'Not in a mesh'}
                    {n.namespace.ambient ? (
                      <>
                        {' '}
                        <Label isCompact color="blue" data-test="namespace-ambient-badge">
                          ambient
                        </Label>
                      </>
                    ) : null}
                  </div>
                  <div className="trellis-card-line">
                    <MtlsLabel mtls={n.mtls} percent={n.mtlsTrafficPercent} />
                  </div>
                  <div className="trellis-card-line">
                    <span data-test="inbound-rps">Inbound {formatRps(n.inboundRps)}</span>
                    <Sparkline points={n.trafficSeries} />
                  </div>
                  {n.configErrors || n.configWarnings ? (
                    <div className="trellis-card-line">
                      <a {...linkProps(`/istio?namespace=${n.namespace.name}`)}>
                        Istio config: {n.configErrors} errors, {n.configWarnings} warnings
                      </a>
                    </div>
                  ) : null}
                </CardBody>
                <CardFooter>
                  <a {...linkProps(`/graph?namespaces=${n.namespace.name}`)}>Graph</a> · <a {...linkProps(`/workloads?namespace=${n.namespace.name}`)}>Workloads</a> · <a {...linkProps(`/services?namespace=${n.namespace.name}`)}>Services</a> · <a {...linkProps(`/istio?namespace=${n.namespace.name}`)}>Istio config</a>
                </CardFooter>
              </Card>
            ))}
          </Gallery>
        </Loading>
      </PageSection>
    </>
  );
}
