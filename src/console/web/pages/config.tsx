// Istio config: the list with validation icons, and one object's YAML with its findings at their lines and an editor.

import { Alert, Button, Label, Modal, ModalBody, ModalHeader, PageSection } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useCallback, useState } from 'react';
import { api } from '../api';
import { CONFIG_TEMPLATES, templateFor } from '../config-templates';
import { Loading, PageHeader } from '../components/page';
import { SimpleSelect } from '../components/pickers';
import { GatewayApiStatusCard, GatewayApiStatusLabel, StatusSourceNote } from '../components/gateway-api-status';
import { ValidationIcon } from '../components/status';
import { configHref } from '../components/tables';
import { ApplyError, DialogFooter } from '../components/wizards';
import { YamlEditor, YamlView } from '../components/yaml-view';
import { useCanWrite, useStatus } from '../context';
import { useAction, useData } from '../hooks';
import { linkProps, navigate, useQueryParam } from '../router';
import type { ConfigRef, Validation, WriteOk } from '../types';

/** The Create menu's entry for Kiali's K8s Gateway form (the other entries open a YAML template). */
const K8S_GATEWAY_FORM = 'K8sGatewayForm';

/** The findings a write would meet (a dry run); a refusal's findings are findings too. */
async function findingsOf(write: Promise<WriteOk>): Promise<Validation[]> {
  return (await write).validations;
}

export function ConfigListPage() {
  const canWrite = useCanWrite();
  const [namespace, setNamespace] = useQueryParam('namespace', '');
  const namespaces = useData(() => api.namespaces(), []);
  const { data, error, loading } = useData(() => api.istioConfig(namespace || undefined), [namespace], 15000);
  const nsOptions = [{ value: '', label: 'All namespaces' }, ...(namespaces.data ?? []).map((n) => ({ value: n.name, label: n.name }))];
  return (
    <>
      <PageHeader title="Istio Config">
        <SimpleSelect id="namespace" value={namespace} options={nsOptions} onChange={setNamespace} prefix="Namespace" />
        {canWrite ? (
          <SimpleSelect
            id="create"
            value=""
            options={[{ value: '', label: 'Create…' }, ...CONFIG_TEMPLATES.map((t) => ({ value: t.id, label: `${t.kind} (${t.group})` })), { value: K8S_GATEWAY_FORM, label: 'K8s Gateway (form)' }]}
            onChange={(id) => id && navigate(id === K8S_GATEWAY_FORM ? '/istio/new/k8s-gateway' : '/istio/new', { ...(id === K8S_GATEWAY_FORM ? {} : { kind: id }), namespace: namespace || 'default' })}
          />
        ) : null}
      </PageHeader>
      <PageSection>
        <Loading error={error} loading={loading && !data}>
          <StatusSourceNote source={data?.statusSource} />
          <Table aria-label="Istio config" variant="compact" data-test="istio-config-table">
            <Thead>
              <Tr>
                <Th>Name</Th>
                <Th>Namespace</Th>
                <Th>Kind</Th>
                <Th>Configuration</Th>
                <Th>Status</Th>
              </Tr>
            </Thead>
            <Tbody>
              {data?.items.map((c) => (
                <Tr key={`${c.group}/${c.kind}/${c.namespace}/${c.name}`} data-test={`config-row-${c.name}`}>
                  <Td dataLabel="Name">
                    <a {...linkProps(configHref(c))}>{c.name}</a>
                  </Td>
                  <Td dataLabel="Namespace">{c.namespace}</Td>
                  <Td dataLabel="Kind">
                    {c.kind} <span className="trellis-muted">{c.group}</span>
                  </Td>
                  <Td dataLabel="Configuration">
                    <ValidationIcon status={c.status} /> {c.status === 'Valid' ? 'Valid' : c.validations.map((v) => v.code).join(', ')}
                  </Td>
                  <Td dataLabel="Status">
                    <GatewayApiStatusLabel status={c.gatewayApiStatus} testId={`k8s-status-${c.name}`} />
                  </Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        </Loading>
      </PageSection>
    </>
  );
}

export function ConfigDetailPage({ target }: { target: ConfigRef }) {
  const canWrite = useCanWrite();
  const status = useStatus();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [saved, setSaved] = useState(false);
  // Gateway API status moves (a Gateway becomes Programmed when its proxy runs): refreshed while it is shown.
  const { data, error, loading, reload } = useData(() => api.configDetail(target), [target.namespace, target.group, target.kind, target.name], target.group === 'gateway.networking.k8s.io' && !editing ? 5000 : 0);
  const o = data?.object;
  const validate = useCallback((text: string) => findingsOf(api.replaceConfig(target, text, true)), [target.namespace, target.group, target.kind, target.name]);
  return (
    <>
      <PageHeader title={<>{target.kind}: {target.name}</>} subtitle={`Namespace ${target.namespace}${data?.file ? ` · ${data.file}` : ''}`}>
        {o ? (
          <Label icon={<ValidationIcon status={o.status} />} data-test="config-status">
            {o.status}
          </Label>
        ) : null}
        {canWrite && data?.yaml && !editing ? (
          <Button variant="secondary" onClick={() => setEditing(true)} data-test="edit-yaml">
            Edit YAML
          </Button>
        ) : null}
        {canWrite && o && !editing ? (
          <Button variant="danger" onClick={() => setDeleting(true)} data-test="delete-config">
            Delete
          </Button>
        ) : null}
      </PageHeader>
      <PageSection>
        {!canWrite ? <Alert variant="info" isInline isPlain title={status.viewOnlyMode ? 'View-only mode: editing is disabled.' : 'Editing needs the control plane API (istio_api_enabled is false).'} style={{ marginBottom: 12 }} data-test="read-only-note" /> : null}
        {saved ? <Alert variant="success" isInline title="Saved" style={{ marginBottom: 12 }} data-test="saved" /> : null}
        {o?.gatewayApiStatus && !editing ? <GatewayApiStatusCard status={o.gatewayApiStatus} source={data?.statusSource} /> : null}
        <Loading error={error} loading={loading && !data}>
          {data && o ? (
            editing && data.yaml ? (
              <YamlEditor
                initial={data.yaml}
                validate={validate}
                onCancel={() => setEditing(false)}
                onSave={async (text) => {
                  await api.replaceConfig(target, text);
                  setEditing(false);
                  setSaved(true);
                  reload();
                }}
              />
            ) : data.yaml ? (
              <YamlView yaml={data.yaml} firstLine={data.firstLine ?? 1} validations={o.validations} />
            ) : (
              <pre className="trellis-pre">{JSON.stringify(o.object, null, 2)}</pre>
            )
          ) : null}
        </Loading>
      </PageSection>
      {deleting ? <DeleteConfigDialog target={target} file={data?.file} onClose={() => setDeleting(false)} /> : null}
    </>
  );
}

function DeleteConfigDialog({ target, file, onClose }: { target: ConfigRef; file: string | undefined; onClose: () => void }) {
  const { busy, error, run } = useAction(async () => {
    await api.deleteConfig(target);
    navigate('/istio', { namespace: target.namespace });
  });
  return (
    <Modal isOpen onClose={onClose} variant="small" aria-label="Delete" data-test="delete-config-dialog">
      <ModalHeader title={`Delete ${target.kind} ${target.name}?`} titleIconVariant="warning" />
      <ModalBody>
        Its document is removed from {file ?? 'its file'}; the rest of the file stays as it is.
        <ApplyError error={error} />
      </ModalBody>
      <DialogFooter label="Delete" testId="delete-config-confirm" busy={busy} danger onConfirm={run} onCancel={onClose} />
    </Modal>
  );
}

/** A new object from a template of its kind, in the editor that shows the analyzers' findings as it is written. */
export function ConfigCreatePage() {
  const [kind] = useQueryParam('kind', 'VirtualService');
  const [namespace] = useQueryParam('namespace', 'default');
  const validate = useCallback((text: string) => findingsOf(api.applyConfig(text, namespace, true)), [namespace]);
  const template = templateFor(kind, namespace);
  return (
    <>
      <PageHeader title={<>Create {template.kind}</>} subtitle={`Namespace ${namespace} · ${template.group}`} />
      <PageSection>
        <YamlEditor
          key={`${kind}/${namespace}`}
          initial={template.yaml}
          validate={validate}
          saveLabel="Create"
          onCancel={() => navigate('/istio', { namespace })}
          onSave={async (text) => {
            const r = await api.applyConfig(text, namespace);
            const first = r.applied[0];
            if (first) navigate(configHref(first));
          }}
        />
      </PageSection>
    </>
  );
}
