// The workload's annotation editor, how a refused write is shown (its message and the validations' codes), and a
// wizard's preview: the YAML Create writes, or why it cannot write any.

import { Alert, Button, ExpandableSection, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, Switch, TextInput } from '@patternfly/react-core';
import { useState, type ReactNode } from 'react';
import { api, ApiFailure } from '../api';
import { useAction } from '../hooks';
import type { WorkloadInfo } from '../types';
import { ValidationIcon } from './status';

/** A dialog's buttons: the action (disabled while it runs or when it cannot), and Cancel. */
export function DialogFooter({ label, testId, busy, disabled, danger, onConfirm, onCancel }: { label: string; testId: string; busy: boolean; disabled?: boolean; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  return (
    <ModalFooter>
      <Button variant={danger ? 'danger' : 'primary'} onClick={onConfirm} isDisabled={busy || !!disabled} isLoading={busy} data-test={testId}>
        {label}
      </Button>
      <Button variant="link" onClick={onCancel}>
        Cancel
      </Button>
    </ModalFooter>
  );
}

/** A form row's Remove link (none when the row cannot be removed: the last one). */
export function RemoveButton({ onRemove }: { onRemove: (() => void) | undefined }) {
  return onRemove ? (
    <Button variant="link" onClick={onRemove}>
      Remove
    </Button>
  ) : null;
}

/** What Create will write, or the problem that keeps it from writing (with anything that helps, as children). */
export function WizardPreview({ problem, yaml, children }: { problem: string | undefined; yaml: string; children?: ReactNode }) {
  if (problem) {
    return (
      <Alert variant="warning" isInline title={problem} style={{ marginTop: 12 }} data-test="wizard-problem">
        {children}
      </Alert>
    );
  }
  return (
    <ExpandableSection toggleText="Preview YAML" isExpanded style={{ marginTop: 12 }}>
      <pre className="trellis-pre" data-test="wizard-preview">
        {yaml}
      </pre>
    </ExpandableSection>
  );
}

export function ApplyError({ error }: { error?: Error }) {
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

const INJECT = 'sidecar.istio.io/inject';

export function AnnotationEditor({ workload, onClose, onSaved }: { workload: WorkloadInfo; onClose: () => void; onSaved: () => void }) {
  const [rows, setRows] = useState<Array<[string, string]>>(() => Object.entries(workload.annotations).filter(([k]) => k !== INJECT));
  const [inject, setInject] = useState<string | undefined>(workload.annotations[INJECT]);
  const { busy, error, run: save } = useAction(async () => {
    const next: Record<string, string> = Object.fromEntries(rows.filter(([k]) => k.trim() !== ''));
    if (inject !== undefined) next[INJECT] = inject;
    const changes: Record<string, string | null> = { ...next };
    for (const k of Object.keys(workload.annotations)) if (!(k in next)) changes[k] = null;
    await api.annotate(workload.namespace, workload.name, changes);
    onSaved();
  });
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
      <DialogFooter label="Save" testId="annotations-save" busy={busy} onConfirm={save} onCancel={onClose} />
    </Modal>
  );
}
