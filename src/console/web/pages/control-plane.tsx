// Control plane: version, connected proxies and their sync state, the CA root and its expiry, mesh settings, and every
// control plane of the mesh (OpenShift Service Mesh's several control planes) with its members and status.

import { Alert, Card, CardBody, CardTitle, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Grid, GridItem, Label, PageSection } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import type { ControlPlaneSummary } from '../types';
import { api } from '../api';
import { Loading, PageHeader } from '../components/page';
import { ProxyTable } from '../components/tables';
import { useStatus } from '../context';
import { useData } from '../hooks';

function Item({ term, children, test }: { term: string; children: React.ReactNode; test?: string }) {
  return (
    <DescriptionListGroup>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription data-test={test}>{children}</DescriptionListDescription>
    </DescriptionListGroup>
  );
}

/** Every control plane with its mode, version, members and readiness, and the settings it applies. */
function ControlPlanes({ planes }: { planes: ControlPlaneSummary[] }) {
  return (
    <Table aria-label="Control planes" variant="compact" data-test="control-planes">
      <Thead>
        <Tr>
          <Th>Control plane</Th>
          <Th>Mode</Th>
          <Th>Version</Th>
          <Th>Members</Th>
          <Th>Status</Th>
          <Th>Mesh settings</Th>
        </Tr>
      </Thead>
      <Tbody>
        {planes.map((p) => {
          const ready = p.conditions.find((c) => c.type === 'Ready');
          return (
            <Tr key={p.namespace} data-test={`control-plane-${p.namespace}`}>
              <Td>
                {p.namespace}/{p.name} {p.declared ? <Label isCompact>ServiceMeshControlPlane</Label> : <Label isCompact>Istio</Label>}
              </Td>
              <Td data-test="mode">{p.mode}</Td>
              <Td>{p.version ?? '—'}</Td>
              <Td data-test="members">
                {p.members.length
                  ? p.members.map((m) => (
                      <Label key={m.namespace} isCompact color={m.state === 'Configured' ? 'green' : m.state === 'Conflict' ? 'red' : 'orange'} title={m.claimedBy ? `member of ${m.claimedBy}` : m.state}>
                        {m.namespace}
                        {m.state === 'Configured' ? '' : ` (${m.state.toLowerCase()})`}
                      </Label>
                    ))
                  : p.declared
                    ? 'none'
                    : 'every namespace it sees'}
              </Td>
              <Td data-test="status">{ready ? `${ready.reason}${ready.status === 'True' ? '' : `: ${ready.message}`}` : '—'}</Td>
              <Td>
                trust domain {p.mesh.trustDomain}, min TLS {p.mesh.minProtocolVersion}, mTLS {p.mesh.meshWideMtlsMode ?? 'PERMISSIVE'}, auto mTLS {p.mesh.autoMtls ? 'on' : 'off'}
                {p.gateways.length ? `, gateways ${p.gateways.join(', ')}` : ''}
              </Td>
            </Tr>
          );
        })}
      </Tbody>
    </Table>
  );
}

function daysLeft(iso: string): string {
  const d = (Date.parse(iso) - Date.now()) / 86400000;
  return d > 0 ? `in ${Math.floor(d)} days` : 'expired';
}

export function ControlPlanePage() {
  const status = useStatus();
  const { data, error, loading } = useData(() => (status.istioApiEnabled ? api.controlPlane() : Promise.resolve(undefined)), [status.istioApiEnabled], 15000);
  return (
    <>
      <PageHeader title="Control plane" />
      <PageSection>
        {!status.istioApiEnabled ? (
          <Alert variant="info" isInline title="Unavailable: istio_api_enabled is false" data-test="controlplane-unavailable">
            The console works from the manifests and Prometheus alone; the control plane's status, proxies and CA are not read.
          </Alert>
        ) : (
          <Loading error={error} loading={loading && !data}>
            {data ? (
              <Grid hasGutter>
                <GridItem md={4}>
                  <Card isCompact>
                    <CardTitle>Control plane</CardTitle>
                    <CardBody>
                      <DescriptionList isCompact>
                        <Item term="Version">Trellis {data.version}</Item>
                        <Item term="Behaves as">{data.compatibleWith}</Item>
                        <Item term="Source">{data.source}</Item>
                        <Item term="Connected proxies" test="connected-proxies">
                          {data.connectedProxies} ({data.syncedProxies} synced)
                        </Item>
                      </DescriptionList>
                    </CardBody>
                  </Card>
                </GridItem>
                <GridItem md={4}>
                  <Card isCompact>
                    <CardTitle>Certificate authority</CardTitle>
                    <CardBody>
                      {data.caRoot ? (
                        <DescriptionList isCompact>
                          <Item term="Root subject" test="ca-subject">{data.caRoot.subject}</Item>
                          <Item term="Issuer">{data.caRoot.issuer}</Item>
                          <Item term="Valid until" test="ca-expiry">
                            {data.caRoot.notAfter.slice(0, 10)} ({daysLeft(data.caRoot.notAfter)})
                          </Item>
                        </DescriptionList>
                      ) : (
                        <span className="trellis-muted">No CA root known.</span>
                      )}
                    </CardBody>
                  </Card>
                </GridItem>
                <GridItem md={4}>
                  <Card isCompact>
                    <CardTitle>Mesh settings</CardTitle>
                    <CardBody>
                      <DescriptionList isCompact>
                        <Item term="Trust domain">{data.mesh.trustDomain}</Item>
                        <Item term="Minimum TLS version (meshMTLS)" test="min-tls">{data.mesh.minProtocolVersion}</Item>
                        <Item term="Mesh-wide mTLS">{data.mesh.meshWideMtlsMode ?? 'not set (PERMISSIVE)'}</Item>
                        <Item term="Auto mTLS">{data.mesh.autoMtls ? 'on' : 'off'}</Item>
                        <Item term="Root namespace">{data.mesh.rootNamespace}</Item>
                      </DescriptionList>
                    </CardBody>
                  </Card>
                </GridItem>
                <GridItem md={12}>
                  <Card isCompact>
                    <CardTitle>Control planes</CardTitle>
                    <CardBody>
                      <ControlPlanes planes={data.planes} />
                    </CardBody>
                  </Card>
                </GridItem>
                <GridItem md={12}>
                  <Card isCompact>
                    <CardTitle>Proxies</CardTitle>
                    <CardBody>
                      <ProxyTable proxies={data.proxies} />
                    </CardBody>
                  </Card>
                </GridItem>
              </Grid>
            ) : null}
          </Loading>
        )}
      </PageSection>
    </>
  );
}
