// Kiali's wizards: traffic shifting (weights per version) and request routing (match → version), plus annotations.

import { Alert, Button, ExpandableSection, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, Switch, TextInput } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useMemo, useState } from 'react';
import { checkWizard, evenWeights, routingYaml, subsetsFor, type MatchOp, type MatchRule } from '../../wizards/routing.js';
import { api, ApiFailure } from '../api';
import type { WorkloadInfo } from '../types';
import { SimpleSelect } from './pickers';
import { ValidationIcon } from './status';

export type WizardKind = 'traffic-shifting' | 'request-routing';

function ApplyError({ error }: { error?: Error }) {
  if (!error) return null;
  return (
    <Alert variant="danger" isInline title={error.message} data-test="wizard-error">
      {error instanceof ApiFailure && error.validations.length ? (
        <ul>
          {error.validations.map((v, i) => (
            <li key={i}>
              <ValidationIcon status={v.level} /> {v.code} {v.message}
            </li>
          ))}
        </ul>
      ) : null}
    </Alert>
  );
}

export function RoutingWizard({ kind, namespace, service, workloads, onClose, onApplied }: { kind: WizardKind; namespace: string; service: string; workloads: WorkloadInfo[]; onClose: () => void; onApplied: (files: string[]) => void }) {
  const subsets = useMemo(() => subsetsFor(workloads), [workloads]);
  const [weights, setWeights] = useState(() => evenWeights(subsets));
  const [rules, setRules] = useState<MatchRule[]>([]);
  const [defaultSubset, setDefaultSubset] = useState(subsets[0]?.name ?? '');
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const input = kind === 'traffic-shifting' ? { namespace, service, subsets, weights } : { namespace, service, subsets, rules, weights: [{ subset: defaultSubset, weight: 100 }] };
  const problem = checkWizard(input);
  const yaml = problem ? '' : routingYaml(input, kind);
  const total = weights.reduce((a, w) => a + w.weight, 0);

  const create = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await api.applyConfig(yaml, namespace);
      onApplied(r.applied.map((a) => a.file));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const title = kind === 'traffic-shifting' ? 'Traffic shifting' : 'Request routing';
  const ops = [
    { value: 'exact', label: 'exact' },
    { value: 'prefix', label: 'prefix' },
    { value: 'regex', label: 'regex' },
  ];
  const subsetOptions = subsets.map((s) => ({ value: s.name, label: s.name }));
  return (
    <Modal isOpen onClose={onClose} variant="medium" aria-label={title} data-test="wizard">
      <ModalHeader title={`${title}: ${service}`} description="Creates a VirtualService and a DestinationRule with one subset per version label." />
      <ModalBody>
        {kind === 'traffic-shifting' ? (
          <Table aria-label="Weights" variant="compact">
            <Thead>
              <Tr>
                <Th>Version (subset)</Th>
                <Th>Workloads</Th>
                <Th>Weight %</Th>
              </Tr>
            </Thead>
            <Tbody>
              {subsets.map((s) => (
                <Tr key={s.name}>
                  <Td>{s.name}</Td>
                  <Td>{workloads.filter((w) => w.labels.version === s.name).map((w) => w.name).join(', ')}</Td>
                  <Td>
                    <TextInput
                      type="number"
                      aria-label={`weight of ${s.name}`}
                      data-test={`weight-${s.name}`}
                      value={weights.find((w) => w.subset === s.name)?.weight ?? 0}
                      onChange={(_e, v) => setWeights(weights.map((w) => (w.subset === s.name ? { ...w, weight: Math.round(Number(v) || 0) } : w)))}
                      style={{ width: 90 }}
                    />
                  </Td>
                </Tr>
              ))}
              <Tr>
                <Td>
                  <strong>Total</strong>
                </Td>
                <Td />
                <Td data-test="weight-total">{total}%</Td>
              </Tr>
            </Tbody>
          </Table>
        ) : (
          <Form>
            {rules.map((r, i) => (
              <FormGroup key={i} label={`Rule ${i + 1}`} fieldId={`rule-${i}`}>
                <div className="trellis-row">
                  <SimpleSelect id={`rule-${i}-kind`} value={r.header ? 'header' : 'uri'} options={[{ value: 'header', label: 'header' }, { value: 'uri', label: 'URI' }]} onChange={(v) => setRules(rules.map((x, j) => (j === i ? (v === 'header' ? { subset: x.subset, header: { name: 'end-user', op: 'exact', value: '' } } : { subset: x.subset, uri: { op: 'prefix', value: '/' } }) : x)))} />
                  {r.header ? <TextInput aria-label="header name" value={r.header.name} onChange={(_e, v) => setRules(rules.map((x, j) => (j === i ? { ...x, header: { ...x.header!, name: v } } : x)))} style={{ width: 120 }} /> : null}
                  <SimpleSelect id={`rule-${i}-op`} value={(r.header ?? r.uri)!.op} options={ops} onChange={(v) => setRules(rules.map((x, j) => (j === i ? (x.header ? { ...x, header: { ...x.header, op: v as MatchOp } } : { ...x, uri: { ...x.uri!, op: v as MatchOp } }) : x)))} />
                  <TextInput aria-label="value" data-test={`rule-${i}-value`} value={(r.header ?? r.uri)!.value} onChange={(_e, v) => setRules(rules.map((x, j) => (j === i ? (x.header ? { ...x, header: { ...x.header, value: v } } : { ...x, uri: { ...x.uri!, value: v } }) : x)))} style={{ width: 120 }} />
                  <span>→</span>
                  <SimpleSelect id={`rule-${i}-subset`} value={r.subset} options={subsetOptions} onChange={(v) => setRules(rules.map((x, j) => (j === i ? { ...x, subset: v } : x)))} />
                  <Button variant="link" onClick={() => setRules(rules.filter((_x, j) => j !== i))}>
                    Remove
                  </Button>
                </div>
              </FormGroup>
            ))}
            <div>
              <Button variant="secondary" onClick={() => setRules([...rules, { subset: subsets[subsets.length - 1]?.name ?? '', header: { name: 'end-user', op: 'exact', value: 'jason' } }])} data-test="add-rule">
                Add rule
              </Button>
            </div>
            <FormGroup label="Everything else goes to" fieldId="default-subset">
              <SimpleSelect id="default-subset" value={defaultSubset} options={subsetOptions} onChange={setDefaultSubset} />
            </FormGroup>
          </Form>
        )}
        {problem ? (
          <Alert variant="warning" isInline title={problem} style={{ marginTop: 12 }} data-test="wizard-problem" />
        ) : (
          <ExpandableSection toggleText="Preview YAML" style={{ marginTop: 12 }}>
            <pre className="trellis-pre" data-test="wizard-preview">
              {yaml}
            </pre>
          </ExpandableSection>
        )}
        <ApplyError error={error} />
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" onClick={create} isDisabled={!!problem || busy} isLoading={busy} data-test="wizard-create">
          Create
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

const INJECT = 'sidecar.istio.io/inject';

export function AnnotationEditor({ workload, onClose, onSaved }: { workload: WorkloadInfo; onClose: () => void; onSaved: () => void }) {
  const [rows, setRows] = useState<Array<[string, string]>>(() => Object.entries(workload.annotations).filter(([k]) => k !== INJECT));
  const [inject, setInject] = useState<string | undefined>(workload.annotations[INJECT]);
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const save = async () => {
    const next: Record<string, string> = Object.fromEntries(rows.filter(([k]) => k.trim() !== ''));
    if (inject !== undefined) next[INJECT] = inject;
    const changes: Record<string, string | null> = { ...next };
    for (const k of Object.keys(workload.annotations)) if (!(k in next)) changes[k] = null;
    setBusy(true);
    setError(undefined);
    try {
      await api.annotate(workload.namespace, workload.name, changes);
      onSaved();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal isOpen onClose={onClose} variant="medium" aria-label="Edit annotations" data-test="annotation-editor">
      <ModalHeader title={`Annotations of ${workload.name}`} description="Pod template annotations. The sidecar is injected or removed when the workload is restarted." />
      <ModalBody>
        <Form>
          <FormGroup label="Sidecar injection (sidecar.istio.io/inject)" fieldId="inject">
            <div className="trellis-row">
              <Switch id="inject-set" label="Set explicitly" isChecked={inject !== undefined} onChange={(_e, c) => setInject(c ? 'true' : undefined)} />
              {inject !== undefined ? <Switch id="inject" data-test="inject-switch" label={inject === 'true' ? 'true (inject)' : 'false (no sidecar)'} isChecked={inject === 'true'} onChange={(_e, c) => setInject(c ? 'true' : 'false')} /> : null}
            </div>
          </FormGroup>
          {rows.map(([k, v], i) => (
            <div key={i} className="trellis-row">
              <TextInput aria-label="key" value={k} onChange={(_e, x) => setRows(rows.map((r, j) => (j === i ? [x, r[1]] : r)))} />
              <TextInput aria-label="value" value={v} onChange={(_e, x) => setRows(rows.map((r, j) => (j === i ? [r[0], x] : r)))} />
              <Button variant="link" onClick={() => setRows(rows.filter((_r, j) => j !== i))}>
                Remove
              </Button>
            </div>
          ))}
          <div>
            <Button variant="secondary" onClick={() => setRows([...rows, ['', '']])}>
              Add annotation
            </Button>
          </div>
        </Form>
        <ApplyError error={error} />
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" onClick={save} isLoading={busy} isDisabled={busy} data-test="annotations-save">
          Save
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}
