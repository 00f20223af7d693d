// Request matching and header rules shared by networking kinds: durations, RE2 regexes, StringMatch, header names and values.

import { at, asArray, asObject, asString, isSet, type Issues, type Obj } from './object-check.js';
import { istioDurationMs } from '../../duration.js';

/** Istio's duration rule: at least 1ms and no finer than milliseconds. The schema reports values that are not durations. */
export function checkDuration(value: unknown, path: string, out: Issues, opts: { wholeSeconds?: boolean } = {}): void {
  if (typeof value !== 'string') return;
  const ms = istioDurationMs(value);
  if (ms === undefined) return;
  if (ms < 1) out.error(path, `must be at least 1ms (got "${value}")`);
  else if (Math.abs(ms - Math.round(ms)) > 1e-6) out.error(path, `only millisecond precision is supported (got "${value}")`);
  else if (opts.wholeSeconds && Math.round(ms) % 1000 !== 0) out.error(path, `must be a whole number of seconds (got "${value}")`);
}

const POSIX_CLASSES = new Set(['alnum', 'alpha', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit']);

/**
 * Why `re` is not an RE2 expression (Envoy's regex engine), or undefined. This is an approximation: RE2-only syntax
 * (inline flags, `(?P<name>`, `\z`, `\Q…\E`, POSIX classes) is rewritten for JavaScript's RegExp, which then compiles it;
 * constructs RE2 rejects (lookaround, backreferences) are reported explicitly.
 */
export function regexProblem(re: string): string | undefined {
  if (re.length > 1024) return 'regex is too long (at most 1024 characters)';
  let js = '';
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\') {
      const n = re[i + 1];
      if (n === undefined) return 'regex ends with a lone backslash';
      if (!inClass && /[1-9]/.test(n)) return `backreferences (\\${n}) are not supported by RE2, Envoy's regex engine`;
      if (n === 'Q') {
        const end = re.indexOf('\\E', i + 2);
        const literal = re.slice(i + 2, end < 0 ? re.length : end);
        js += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? re.length : end + 1;
        continue;
      }
      if (!inClass && n === 'z') js += '$';
      else if (!inClass && n === 'A') js += '^';
      else js += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && re[i + 1] === ':') {
        const end = re.indexOf(':]', i + 2);
        const name = end < 0 ? '' : re.slice(i + 2, end).replace(/^\^/, '');
        if (end < 0 || !POSIX_CLASSES.has(name)) return `invalid character class "${re.slice(i, end < 0 ? i + 8 : end + 2)}"`;
        js += 'a-z';
        i = end + 1;
        continue;
      }
      if (c === ']') inClass = false;
      js += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      js += c;
      if (re[i + 1] === '^') js += re[++i];
      if (re[i + 1] === ']') js += '\\' + re[++i]; // a leading ']' is a literal in RE2
      continue;
    }
    if (c === '(' && re[i + 1] === '?') {
      const rest = re.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest)) return 'lookahead and lookbehind are not supported by RE2, Envoy\'s regex engine';
      const flags = /^[imsU-]+(\)|:)/.exec(rest);
      if (flags) {
        // Inline flags change matching, not validity: drop them for the compile check.
        js += flags[1] === ')' ? '' : '(?:';
        i += 1 + flags[0].length;
        continue;
      }
      if (rest.startsWith('P<')) {
        js += '(?<';
        i += 3;
        continue;
      }
    }
    js += c;
  }
  try {
    new RegExp(js);
    return undefined;
  } catch (err) {
    const detail = err instanceof Error ? err.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(err);
    return `invalid regular expression "${re}": ${detail} (Istio uses RE2 syntax)`;
  }
}

/**
 * Istio's StringMatch: at most one of exact, prefix and regex (empty `{}` is a presence match for headers);
 * an empty prefix or regex is an error except where noted; regexes must compile.
 */
export function checkStringMatch(value: unknown, path: string, out: Issues, opts: { allowEmptyPrefix?: boolean } = {}): void {
  const m = asObject(value);
  if (!m) return;
  const kinds = ['exact', 'prefix', 'regex'].filter((k) => isSet(m[k]));
  if (kinds.length > 1) out.error(path, `set only one of exact, prefix or regex (found ${kinds.join(' and ')})`);
  if (m.prefix === '' && !opts.allowEmptyPrefix) out.error(at(path, 'prefix'), 'prefix must not be empty');
  if (typeof m.regex === 'string') {
    if (m.regex === '') out.error(at(path, 'regex'), 'regex must not be empty');
    else {
      const problem = regexProblem(m.regex);
      if (problem) out.error(at(path, 'regex'), problem);
    }
  }
}

// ---------------------------------------------------------------- headers

/** Header names Istio accepts in matches (`^[-_A-Za-z0-9]+$`), and JWT claim routing keys. */
const MATCH_HEADER_NAME = /^[-_A-Za-z0-9]+$/;
const JWT_CLAIM_PREFIX = '@request.auth.claims.';

export function isJwtClaimHeader(name: string): boolean {
  return name.startsWith(JWT_CLAIM_PREFIX) && name.length > JWT_CLAIM_PREFIX.length;
}

export function matchHeaderNameProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (isJwtClaimHeader(name) || MATCH_HEADER_NAME.test(name)) return undefined;
  return `"${name}" is not a valid header name: use letters, digits, '-' and '_' (pseudo-headers such as :authority have their own match fields)`;
}

/** Control characters Envoy refuses in header values (tab is allowed). */
const HEADER_VALUE_CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

/**
 * Why a header value is not valid for Envoy, or undefined. Values may hold `%VARIABLE%` or `%VARIABLE(args)%`
 * expressions; a literal percent sign is written `%%`.
 */
export function headerValueProblem(value: string): string | undefined {
  if (HEADER_VALUE_CONTROL.test(value)) return 'header value must not contain control characters';
  let i = 0;
  while (i < value.length) {
    if (value[i] !== '%') {
      i++;
      continue;
    }
    if (value[i + 1] === '%') {
      i += 2;
      continue;
    }
    if (i + 1 >= value.length) return `un-escaped "%" at the end of "${value}": write "%%" for a literal percent sign`;
    // A variable: up to the closing %, skipping a parenthesised argument list (which may itself contain % inside strings).
    let j = i + 1;
    let depth = 0;
    let inString = false;
    for (; j < value.length; j++) {
      const c = value[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"' && depth > 0) inString = true;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (c === '%' && depth === 0) break;
    }
    if (j >= value.length) return `unterminated variable expression in "${value}": close it with "%", or write "%%" for a literal percent sign`;
    i = j + 1;
  }
  return undefined;
}

function isPseudoOrHost(name: string): boolean {
  return name.startsWith(':') || name.toLowerCase() === 'host';
}

function isAuthority(name: string): boolean {
  return name.toLowerCase() === ':authority' || name.toLowerCase() === 'host';
}

/** Istio's rules on `headers.request`/`headers.response` set, add and remove. */
export function checkHeaderOperations(value: unknown, path: string, out: Issues): void {
  const headers = asObject(value);
  if (!headers) return;
  for (const side of ['request', 'response'] as const) {
    const ops = asObject(headers[side]);
    if (!ops) continue;
    for (const op of ['set', 'add'] as const) {
      for (const [name, v] of Object.entries(asObject(ops[op]) ?? {})) {
        const p = at(path, side, op, name);
        if (name === '') out.error(p, 'header name must not be empty');
        else if (side === 'request' && isPseudoOrHost(name) && !isAuthority(name)) out.error(p, `cannot ${op} the pseudo-header "${name}"`);
        else if (side === 'response' && isPseudoOrHost(name)) out.error(p, `cannot ${op} "${name}" on a response`);
        if (typeof v === 'string') {
          const problem = headerValueProblem(v);
          if (problem) out.error(p, problem);
        }
      }
    }
    asArray(ops.remove).forEach((name, i) => {
      if (typeof name !== 'string') return;
      const p = at(path, side, 'remove', i);
      if (name === '') out.error(p, 'header name must not be empty');
      else if (isPseudoOrHost(name)) out.error(p, `cannot remove "${name}"`);
    });
  }
}

/** Only one place may rewrite the authority: `rewrite.authority` or a request header operation on `:authority`/`host`. */
export function checkAuthorityRewrite(rewrite: Obj | undefined, headers: unknown, path: string, out: Issues): void {
  let current = asString(rewrite?.authority) ?? '';
  const request = asObject(asObject(headers)?.request);
  for (const op of ['set', 'add'] as const) {
    for (const [name, v] of Object.entries(asObject(request?.[op]) ?? {})) {
      if (!isAuthority(name)) continue;
      if (current !== '') {
        out.error(at(path, 'headers', 'request', op, name), `the authority is already rewritten to "${current}"; set it in one place only`);
        return;
      }
      current = String(v);
    }
  }
}
