// Test support for validator tables: load a YAML snippet, run the validator of its kind, and assert on located issues.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../loader.js';
import type { FieldIssue, KindValidator } from './validator.js';

/** A snippet that must produce an issue at `path` whose message contains `message`. */
export interface InvalidCase {
  name: string;
  yaml: string;
  path: string;
  message: string;
  level?: FieldIssue['level'];
}

/** A snippet that must produce no Error (and no Warning unless `warnings` is set). */
export interface ValidCase {
  name: string;
  yaml: string;
  warnings?: boolean;
}

/** Strip the common indentation of a template literal so snippets can be indented with the code. */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n') + '\n';
}

/** An object of `apiVersion`/`kind` named `name`, with `body` (YAML, any indentation) as its remaining top-level fields. */
export function manifest(apiVersion: string, kind: string, body: string, metadata = 'name: example'): string {
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n${indent(dedent(metadata))}${dedent(body)}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : '  ' + l))
    .join('\n');
}

/** Issues of the single object in `yaml`, from the validator registered for its group and kind. */
export function issuesOf(validators: Record<string, KindValidator>, yaml: string): FieldIssue[] {
  const { resources, errors } = loadText(yaml, 'test.yaml');
  assert.deepEqual(errors, [], 'the snippet loads');
  assert.equal(resources.length, 1, 'the snippet holds one object');
  const r = resources[0]!;
  const validate = validators[`${r.group}/${r.kind}`];
  assert.ok(validate, `a validator exists for ${r.group}/${r.kind}`);
  return validate(r);
}

function show(issues: FieldIssue[]): string {
  return issues.map((i) => `  ${i.level} ${i.path}: ${i.message}`).join('\n') || '  (no issues)';
}

export function testInvalid(prefix: string, validators: Record<string, KindValidator>, cases: InvalidCase[]): void {
  for (const c of cases) {
    test(`${prefix}: ${c.name}`, () => {
      const issues = issuesOf(validators, c.yaml);
      const level = c.level ?? 'Error';
      const hit = issues.find((i) => i.path === c.path && i.message.includes(c.message) && i.level === level);
      assert.ok(hit, `expected ${level} at ${c.path} containing "${c.message}", got:\n${show(issues)}`);
    });
  }
}

export function testValid(prefix: string, validators: Record<string, KindValidator>, cases: ValidCase[]): void {
  for (const c of cases) {
    test(`${prefix}: ${c.name} is valid`, () => {
      const issues = issuesOf(validators, c.yaml);
      const bad = issues.filter((i) => i.level === 'Error' || !c.warnings);
      assert.deepEqual(bad, [], `expected no ${c.warnings ? 'errors' : 'issues'}, got:\n${show(bad)}`);
    });
  }
}
