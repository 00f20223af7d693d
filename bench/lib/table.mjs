// Markdown tables and small statistics for benchmark output.

export { median } from './verdict.mjs';

export function fmt(x, digits = 2) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  if (typeof x === 'string') return x;
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(digits);
}

/** Render rows (arrays of cells) under a header row as a Markdown table. */
export function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.map((c) => fmt(c)).join(' | ')} |`);
  return lines.join('\n');
}
