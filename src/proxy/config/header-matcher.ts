// HeaderMatcher and QueryParameterMatcher compiled into predicates over a request's match input.

import type { HeaderMatcher, QueryParameterMatcher } from '../../xds/envoy/index.js';
import type { MatchInput } from './match-input.js';
import { compileRegexMatcher, compileStringMatcher, type StringPredicate } from './string-matcher.js';

export type RequestPredicate = (req: MatchInput) => boolean;

/** Compiles a HeaderMatcher; throws SyntaxError on a bad pattern. */
export function compileHeaderMatcher(m: HeaderMatcher): RequestPredicate {
  if (typeof m.name !== 'string' || m.name === '') throw new SyntaxError('header matcher has no name');
  const name = m.name.toLowerCase();
  const invert = m.invertMatch === true;
  const missingAsEmpty = m.treatMissingHeaderAsEmpty === true;
  let test: StringPredicate | undefined;
  let present: boolean | undefined;
  if (typeof m.exactMatch === 'string') {
    const want = m.exactMatch;
    test = (v) => v === want;
  } else if (m.safeRegexMatch) {
    const re = compileRegexMatcher(m.safeRegexMatch);
    test = (v) => re.test(v);
  } else if (typeof m.prefixMatch === 'string') {
    const want = m.prefixMatch;
    test = (v) => v.startsWith(want);
  } else if (typeof m.suffixMatch === 'string') {
    const want = m.suffixMatch;
    test = (v) => v.endsWith(want);
  } else if (typeof m.containsMatch === 'string') {
    const want = m.containsMatch;
    test = (v) => v.includes(want);
  } else if (m.stringMatch) {
    test = compileStringMatcher(m.stringMatch);
  } else if (m.rangeMatch) {
    const start = Number(m.rangeMatch.start ?? Number.MIN_SAFE_INTEGER);
    const end = Number(m.rangeMatch.end ?? Number.MAX_SAFE_INTEGER);
    test = (v) => {
      if (!/^-?\d+$/.test(v)) return false;
      const n = Number(v);
      return n >= start && n < end;
    };
  } else {
    // presentMatch, or no specifier at all (which Envoy treats as "present").
    present = m.presentMatch !== false;
  }

  if (present !== undefined) {
    const want = present;
    return (req) => (req.header(name) !== undefined) === want !== invert;
  }
  const t = test!;
  return (req) => {
    let v = req.header(name);
    if (v === undefined) {
      if (!missingAsEmpty) return false; // an absent header never matches, inverted or not
      v = '';
    }
    return t(v) !== invert;
  };
}

/** Compiles a QueryParameterMatcher; with neither stringMatch nor presentMatch it checks presence. */
export function compileQueryParameterMatcher(m: QueryParameterMatcher): RequestPredicate {
  if (typeof m.name !== 'string' || m.name === '') throw new SyntaxError('query parameter matcher has no name');
  const name = m.name;
  if (m.stringMatch) {
    const test = compileStringMatcher(m.stringMatch);
    return (req) => {
      if (req.query === '') return false;
      const v = req.queryParams().get(name);
      return v !== null && test(v);
    };
  }
  return (req) => req.query !== '' && req.queryParams().has(name);
}

/** All predicates must hold (an empty list always matches). */
export function allOf(preds: RequestPredicate[]): RequestPredicate | undefined {
  if (preds.length === 0) return undefined;
  if (preds.length === 1) return preds[0];
  return (req) => {
    for (const p of preds) if (!p(req)) return false;
    return true;
  };
}
