// The YAML of a config object with its findings at their lines, and an editor that applies through the API.

import { ActionGroup, Alert, Button, TextArea } from '@patternfly/react-core';
import { Fragment, useState } from 'react';
import { ApiFailure } from '../api';
import type { Validation } from '../types';
import { ValidationIcon } from './status';

export function YamlView({ yaml, firstLine, validations }: { yaml: string; firstLine: number; validations: Validation[] }) {
  const lines = yaml.replace(/\n$/, '').split('\n');
  const last = firstLine + lines.length - 1;
  const byLine = new Map<number, Validation[]>();
  const unplaced: Validation[] = [];
  for (const v of validations) {
    if (v.line !== undefined && v.line >= firstLine && v.line <= last) byLine.set(v.line, [...(byLine.get(v.line) ?? []), v]);
    else unplaced.push(v);
  }
  return (
    <div className="trellis-yaml" data-test="yaml-view">
      {unplaced.map((v, i) => (
        <div key={`u${i}`} className={`trellis-yaml__message trellis-yaml__message--${v.level}`}>
          <ValidationIcon status={v.level} /> {v.code} {v.message}
        </div>
      ))}
      <table>
        <tbody>
          {lines.map((text, i) => {
            const n = firstLine + i;
            const found = byLine.get(n);
            return (
              <Fragment key={n}>
                <tr className={found ? `trellis-yaml__line trellis-yaml__line--${found[0]!.level}` : 'trellis-yaml__line'} data-line={n}>
                  <td className="trellis-yaml__gutter">{found ? <ValidationIcon status={found[0]!.level} /> : null}</td>
                  <td className="trellis-yaml__number">{n}</td>
                  <td className="trellis-yaml__code">
                    <pre>{text || ' '}</pre>
                  </td>
                </tr>
                {found?.map((v, j) => (
                  <tr key={`${n}m${j}`} className={`trellis-yaml__message trellis-yaml__message--${v.level}`} data-test="yaml-message" data-line={n} data-code={v.code}>
                    <td />
                    <td />
                    <td>
                      <ValidationIcon status={v.level} /> <strong>{v.code}</strong> {v.message}
                    </td>
                  </tr>
                ))}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function YamlEditor({ initial, onSave, onCancel }: { initial: string; onSave: (text: string) => Promise<void>; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | Error | undefined>();
  const save = async () => {
    setSaving(true);
    setFailure(undefined);
    try {
      await onSave(text);
    } catch (err) {
      setFailure(err as Error);
    } finally {
      setSaving(false);
    }
  };
  return (
    <div data-test="yaml-editor">
      <TextArea value={text} onChange={(_e, v) => setText(v)} aria-label="YAML" resizeOrientation="vertical" rows={Math.min(40, Math.max(12, text.split('\n').length + 2))} className="trellis-yaml-editor" spellCheck={false} />
      {failure ? (
        <Alert variant="danger" isInline title={failure.message} data-test="save-error" style={{ marginTop: 8 }}>
          {failure instanceof ApiFailure && failure.validations.length ? (
            <ul>
              {failure.validations.map((v, i) => (
                <li key={i}>
                  <ValidationIcon status={v.level} /> {v.line ? `line ${v.line}: ` : ''}
                  <strong>{v.code}</strong> {v.message}
                </li>
              ))}
            </ul>
          ) : null}
        </Alert>
      ) : null}
      <ActionGroup style={{ marginTop: 8 }}>
        <Button variant="primary" onClick={save} isLoading={saving} isDisabled={saving} data-test="save-yaml">
          Save
        </Button>
        <Button variant="link" onClick={onCancel}>
          Cancel
        </Button>
      </ActionGroup>
    </div>
  );
}
