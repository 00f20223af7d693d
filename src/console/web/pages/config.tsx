// Istio config: the list with validation icons, and one object's YAML with its findings at their lines and an editor.

import { Alert, Button, Label, PageSection } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { api } from '../api';
import { Loading, PageHeader } from '../components/page';
import { SimpleSelect } from '../components/pickers';
import { ValidationIcon } from '../components/status';
import { configHref } from '../components/tables';
import { YamlEditor, YamlView } from '../components/yaml-view';
import { useCanWrite, useStatus } from '../context';
import { useData } from '../hooks';
import { linkProps, useQueryParam } from '../router';
import type { ConfigRef } from '../types';

export function ConfigListPage() {
  const [namespace, setNamespace] = useQueryParam('namespace', '');
  const namespaces = useData(() => api.namespaces(), []);
  const { data, error, loading } = useData(() => api.istioConfig(namespace || undefined), [namespace], 15000);
  const nsOptions = [{ value: '', label: 'All namespaces' }, ...(namespaces.data ?? []).map((n) => ({ value: n.name, label: n.name }))];
  return (
    <>
      <PageHeader title="Istio Config">
        <SimpleSelect id="namespace" value={namespace} options={nsOptions} onChange={setNamespace} prefix="Namespace" />
      </PageHeader>
      <PageSection>
        <Loading error={error} loading={loading && !data}>
          <Table aria-label="Istio config" variant="compact" data-test="istio-config-table">
            <Thead>
              <Tr>
                <Th>Name</Th>
                <Th>Namespace</Th>
                <Th>Kind</Th>
                <Th>Configuration</Th>
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
  const [saved, setSaved] = useState(false);
  const { data, error, loading, reload } = useData(() => api.configDetail(target), [target.namespace, target.group, target.kind, target.name]);
  const o = data?.object;
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
      </PageHeader>
      <PageSection>
        {!canWrite ? <Alert variant="info" isInline isPlain title={status.viewOnlyMode ? 'View-only mode: editing is disabled.' : 'Editing needs the control plane API (istio_api_enabled is false).'} style={{ marginBottom: 12 }} data-test="read-only-note" /> : null}
        {saved ? <Alert variant="success" isInline title="Saved" style={{ marginBottom: 12 }} data-test="saved" /> : null}
        <Loading error={error} loading={loading && !data}>
          {data && o ? (
            editing && data.yaml ? (
              <YamlEditor
                initial={data.yaml}
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
    </>
  );
}
