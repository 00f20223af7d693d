// Kiali's "Create K8s Gateway": a Gateway API Gateway from a form — name, class, listeners (name, port, protocol,
// hostname, TLS, the namespaces whose routes it admits) — previewed as the YAML Create writes (wizards/k8s-gateway.ts).

import { Alert, Button, Form, FormGroup, PageSection, TextInput } from '@patternfly/react-core';
import { useState } from 'react';
import { checkK8sGateway, defaultListener, k8sGatewayYaml, type K8sListenerInput, type ListenerProtocol } from '../../wizards/k8s-gateway.js';
import { api } from '../api';
import { PageHeader } from '../components/page';
import { SimpleSelect } from '../components/pickers';
import { configHref } from '../components/tables';
import { ApplyError, RemoveButton, WizardPreview } from '../components/wizards';
import { useCanWrite, useStatus } from '../context';
import { useAction, useData } from '../hooks';
import { navigate, useQueryParam } from '../router';

const PROTOCOLS = (['HTTP', 'HTTPS', 'TLS', 'TCP'] as ListenerProtocol[]).map((p) => ({ value: p, label: p }));

function ListenerRow({ index, value, onChange, onRemove }: { index: number; value: K8sListenerInput; onChange: (l: K8sListenerInput) => void; onRemove?: () => void }) {
  const d = `listener-${index}`;
  const tls = value.protocol === 'HTTPS' || value.protocol === 'TLS';
  const terminates = value.protocol === 'HTTPS' || (value.protocol === 'TLS' && value.tlsMode !== 'Passthrough');
  return (
    <FormGroup label={`Listener ${index + 1}`} fieldId={d} data-test={d}>
      <div className="trellis-row">
        <TextInput aria-label="listener name" data-test={`${d}-name`} value={value.name} onChange={(_e, v) => onChange({ ...value, name: v })} style={{ width: 120 }} />
        <TextInput aria-label="port" data-test={`${d}-port`} type="number" value={value.port} onChange={(_e, v) => onChange({ ...value, port: Number(v) })} style={{ width: 90 }} />
        <SimpleSelect id={`${d}-protocol`} value={value.protocol} options={PROTOCOLS} onChange={(v) => onChange({ ...value, protocol: v as ListenerProtocol, ...(v === 'TLS' ? {} : { tlsMode: undefined }) })} />
        {value.protocol !== 'TCP' ? <TextInput aria-label="hostname" placeholder="hostname (any)" data-test={`${d}-hostname`} value={value.hostname ?? ''} onChange={(_e, v) => onChange({ ...value, hostname: v || undefined })} style={{ width: 180 }} /> : null}
        {value.protocol === 'TLS' ? <SimpleSelect id={`${d}-tls-mode`} value={value.tlsMode ?? 'Terminate'} options={[{ value: 'Terminate', label: 'Terminate' }, { value: 'Passthrough', label: 'Passthrough' }]} onChange={(v) => onChange({ ...value, tlsMode: v as 'Terminate' | 'Passthrough' })} /> : null}
        {tls && terminates ? <TextInput aria-label="certificate secret" placeholder="certificate Secret" data-test={`${d}-certificate`} value={value.certificate ?? ''} onChange={(_e, v) => onChange({ ...value, certificate: v || undefined })} style={{ width: 160 }} /> : null}
        <SimpleSelect id={`${d}-from`} prefix="Routes from" value={value.from} options={[{ value: 'Same', label: 'this namespace' }, { value: 'All', label: 'all namespaces' }]} onChange={(v) => onChange({ ...value, from: v as 'Same' | 'All' })} />
        <RemoveButton onRemove={onRemove} />
      </div>
    </FormGroup>
  );
}

export function K8sGatewayCreatePage() {
  const canWrite = useCanWrite();
  const status = useStatus();
  const [namespace] = useQueryParam('namespace', 'default');
  const [name, setName] = useState('gateway');
  const [className, setClassName] = useState('istio');
  const [listeners, setListeners] = useState<K8sListenerInput[]>([defaultListener(0)]);
  // The classes Trellis serves without an object, and any declared one (Kiali lists the cluster's GatewayClasses).
  const config = useData(() => api.istioConfig(), []);
  const classes = [...new Set(['istio', ...(config.data?.items ?? []).filter((c) => c.kind === 'GatewayClass').map((c) => c.name)])];
  const input = { namespace, name, className, listeners };
  const problem = checkK8sGateway(input);
  const yaml = problem ? '' : k8sGatewayYaml(input);
  const { busy, error, run: create } = useAction(async () => {
    const r = await api.applyConfig(yaml, namespace);
    const first = r.applied[0];
    if (first) navigate(configHref(first));
  });
  return (
    <>
      <PageHeader title="Create K8s Gateway" subtitle={`Namespace ${namespace} · gateway.networking.k8s.io`} />
      <PageSection data-test="k8s-gateway-form">
        {!canWrite ? <Alert variant="info" isInline isPlain title={status.viewOnlyMode ? 'View-only mode: nothing can be created.' : 'Creating needs the control plane API (istio_api_enabled is false).'} data-test="read-only-note" /> : null}
        <Form>
          <div className="trellis-row">
            <FormGroup label="Name" fieldId="gateway-name">
              <TextInput id="gateway-name" data-test="gateway-name" value={name} onChange={(_e, v) => setName(v)} />
            </FormGroup>
            <FormGroup label="Gateway class" fieldId="gateway-class">
              <SimpleSelect id="gateway-class" value={className} options={classes.map((c) => ({ value: c, label: c }))} onChange={setClassName} />
            </FormGroup>
          </div>
          {listeners.map((l, i) => (
            <ListenerRow key={i} index={i} value={l} onChange={(x) => setListeners(listeners.map((y, j) => (j === i ? x : y)))} {...(listeners.length > 1 ? { onRemove: () => setListeners(listeners.filter((_y, j) => j !== i)) } : {})} />
          ))}
          <div>
            <Button variant="secondary" data-test="add-listener" onClick={() => setListeners([...listeners, defaultListener(listeners.length)])}>
              Add listener
            </Button>
          </div>
        </Form>
        <WizardPreview problem={problem} yaml={yaml} />
        <ApplyError error={error} />
        {canWrite ? (
          <div className="trellis-row" style={{ marginTop: 12 }}>
            <Button variant="primary" onClick={create} isDisabled={busy || !!problem} isLoading={busy} data-test="wizard-create">
              Create
            </Button>
            <Button variant="link" onClick={() => navigate('/istio', { namespace })}>
              Cancel
            </Button>
          </div>
        ) : null}
      </PageSection>
    </>
  );
}
