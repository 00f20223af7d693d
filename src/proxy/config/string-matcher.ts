// StringMatcher and RegexMatcher compiled once into plain predicates; RE2 syntax translated to JavaScript regular expressions.

import type { RegexMatchAndSubstitute, RegexMatcher, StringMatcher } from '../../xds/envoy/index.js';

export type StringPredicate = (value: string) => boolean;

/**
 * Translates the RE2 constructs people use into JavaScript syntax: `(?P<name>` groups, a leading
 * `(?i)` flag, `\z` and `\A` anchors. Throws (SyntaxError) when the result is not a valid pattern.
 */
export function compileRe2(regex: string, anchored: boolean, extraFlags = ''): RegExp {
  let source = regex;
  let flags = extraFlags;
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    if (inline[1]!.includes('i') && !flags.includes('i')) flags += 'i';
    if (inline[1]!.includes('s') && !flags.includes('s')) flags += 's';
  }
  source = source.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$').replace(/\\A/g, '^');
  if (/\\[pP]\{/.test(source)) flags += 'u';
  return new RegExp(anchored ? `^(?:${source})$` : source, flags);
}

/** A RegexMatcher as a full-string match (Envoy's safe_regex semantics for matching). */
export function compileRegexMatcher(m: RegexMatcher, ignoreCase = false): RegExp {
  if (typeof m.regex !== 'string' || m.regex === '') throw new SyntaxError('regex is empty');
  return compileRe2(m.regex, true, ignoreCase ? 'i' : '');
}

/** Compiles a StringMatcher; throws SyntaxError for a bad regex or when no pattern is set. */
export function compileStringMatcher(m: StringMatcher): StringPredicate {
  const ic = m.ignoreCase === true;
  if (typeof m.exact === 'string') {
    const want = ic ? m.exact.toLowerCase() : m.exact;
    return ic ? (v) => v.toLowerCase() === want : (v) => v === want;
  }
  if (typeof m.prefix === 'string') {
    const want = ic ? m.prefix.toLowerCase() : m.prefix;
    return ic ? (v) => v.toLowerCase().startsWith(want) : (v) => v.startsWith(want);
  }
  if (typeof m.suffix === 'string') {
    const want = ic ? m.suffix.toLowerCase() : m.suffix;
    return ic ? (v) => v.toLowerCase().endsWith(want) : (v) => v.endsWith(want);
  }
  if (typeof m.contains === 'string') {
    const want = ic ? m.contains.toLowerCase() : m.contains;
    return ic ? (v) => v.toLowerCase().includes(want) : (v) => v.includes(want);
  }
  if (m.safeRegex) {
    // ignoreCase has no effect on safe_regex in Envoy; the regex carries its own (?i).
    const re = compileRegexMatcher(m.safeRegex);
    return (v) => re.test(v);
  }
  throw new SyntaxError('string matcher sets no pattern (exact, prefix, suffix, contains or safeRegex)');
}

/** A compiled RegexMatchAndSubstitute: every match is replaced, RE2's `\1` references become `$1`. */
export interface RegexRewrite {
  re: RegExp;
  substitution: string;
}

export function compileRegexRewrite(r: RegexMatchAndSubstitute): RegexRewrite {
  if (!r.pattern || typeof r.pattern.regex !== 'string' || r.pattern.regex === '') throw new SyntaxError('regexRewrite.pattern.regex is empty');
  const re = compileRe2(r.pattern.regex, false, 'g');
  const substitution = (r.substitution ?? '').replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
  return { re, substitution };
}

export function applyRegexRewrite(r: RegexRewrite, value: string): string {
  r.re.lastIndex = 0;
  return value.replace(r.re, r.substitution);
}
