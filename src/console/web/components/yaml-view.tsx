// The YAML of a config object with its findings at their lines, and an editor that applies through the API.

import { ActionGroup, Alert, Button } from '@patternfly/react-core';
import { Fragment, useEffect, useRef, useState } from 'react';
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

/** Findings by line (1-based, in the text itself), and those with no line in it. */
function byLine(validations: Validation[], lineCount: number): { lines: Map<number, Validation[]>; unplaced: Validation[] } {
  const lines = new Map<number, Validation[]>();
  const unplaced: Validation[] = [];
  for (const v of validations) {
    if (v.line !== undefined && v.line >= 1 && v.line <= lineCount) lines.set(v.line, [...(lines.get(v.line) ?? []), v]);
    else unplaced.push(v);
  }
  return { lines, unplaced };
}

/**
 * A YAML editor whose gutter marks the lines the analyzers point at, as the read-only view does: the text is
 * validated (a dry run of the write) as the user types, and a refused save marks the lines it was refused for.
 */
export function YamlEditor({ initial, validate, onSave, onCancel, saveLabel = 'Save' }: { initial: string; validate: (text: string) => Promise<Validation[]>; onSave: (text: string) => Promise<void>; onCancel: () => void; saveLabel?: string }) {
  const [text, setText] = useState(initial);
  const [findings, setFindings] = useState<Validation[]>([]);
  const [checked, setChecked] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<Error | undefined>();
  const gutter = useRef<HTMLDivElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    let current = true;
    const timer = window.setTimeout(() => {
      validate(text).then(
        (v) => current && (setFindings(v), setChecked(text)),
        (err: Error) => current && (setFindings(err instanceof ApiFailure ? err.validations : []), setChecked(text)),
      );
    }, 400);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [text, validate]);
  const save = async () => {
    setSaving(true);
    setFailure(undefined);
    try {
      await onSave(text);
    } catch (err) {
      setFailure(err as Error);
      if (err instanceof ApiFailure) setFindings(err.validations);
    } finally {
      setSaving(false);
    }
  };
  const lineCount = text.split('\n').length;
  const { lines, unplaced } = byLine(findings, lineCount);
  const goTo = (line: number) => {
    const el = area.current;
    if (!el) return;
    const offset = text.split('\n').slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(offset, offset);
  };
  return (
    <div data-test="yaml-editor" data-checked={checked === text ? 'true' : 'false'}>
      <div className="trellis-editor">
        <div className="trellis-editor__gutter" ref={gutter} aria-hidden>
          {Array.from({ length: lineCount }, (_x, i) => {
            const found = lines.get(i + 1);
            return (
              <div key={i} className={found ? `trellis-editor__line trellis-editor__line--${found[0]!.level}` : 'trellis-editor__line'} {...(found ? { 'data-test': 'editor-marker', 'data-line': i + 1, 'data-code': found.map((v) => v.code).join(' '), title: found.map((v) => `${v.code} ${v.message}`).join('\n') } : {})}>
                {found ? <ValidationIcon status={found[0]!.level} /> : null}
                <span>{i + 1}</span>
              </div>
            );
          })}
        </div>
        <textarea
          ref={area}
          className="trellis-editor__text"
          aria-label="YAML"
          spellCheck={false}
          wrap="off"
          value={text}
          rows={Math.min(40, Math.max(12, lineCount + 1))}
          onChange={(e) => setText(e.target.value)}
          onScroll={(e) => gutter.current && (gutter.current.scrollTop = e.currentTarget.scrollTop)}
        />
      </div>
      {findings.length ? (
        <ul className="trellis-plain-list trellis-editor__messages" data-test="editor-messages">
          {[...lines.entries()].sort((a, b) => a[0] - b[0]).flatMap(([line, vs]) =>
            vs.map((v, j) => (
              <li key={`${line}-${j}`} className={`trellis-yaml__message--${v.level}`} data-test="editor-message" data-line={line} data-code={v.code}>
                <ValidationIcon status={v.level} />{' '}
                <a href="#" onClick={(e) => (e.preventDefault(), goTo(line))}>
                  line {line}
                </a>
                : <strong>{v.code}</strong> {v.message}
              </li>
            )),
          )}
          {unplaced.map((v, i) => (
            <li key={`u${i}`} className={`trellis-yaml__message--${v.level}`} data-test="editor-message" data-code={v.code}>
              <ValidationIcon status={v.level} /> <strong>{v.code}</strong> {v.message}
            </li>
          ))}
        </ul>
      ) : null}
      {failure ? <Alert variant="danger" isInline title={failure.message} data-test="save-error" style={{ marginTop: 8 }} /> : null}
      <ActionGroup style={{ marginTop: 8 }}>
        <Button variant="primary" onClick={save} isLoading={saving} isDisabled={saving} data-test="save-yaml">
          {saveLabel}
        </Button>
        <Button variant="link" onClick={onCancel}>
          Cancel
        </Button>
      </ActionGroup>
    </div>
  );
}
