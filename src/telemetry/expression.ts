// The small part of CEL that Istio's Telemetry API uses: attributes (`response.code`, `request.headers['x']`,
// `request.method`, `request.url_path`, `request.host`, `response.flags`, `source.workload`…), string and number
// literals, comparisons, `&&`, `||`, `!` and parentheses. Compiled once into a function of the request's attributes.

export type Attributes = (name: string, key?: string) => string | number | boolean | undefined;
export type Compiled = (attrs: Attributes) => unknown;

export class ExpressionError extends Error {}

type Tok = { t: 'num' | 'str' | 'id' | 'op' | 'lp' | 'rp' | 'lb' | 'rb'; v: string };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '>=', '<=', '&&', '||'].includes(two)) {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('<>!'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if (c === '(' || c === ')') out.push({ t: c === '(' ? 'lp' : 'rp', v: c });
    else if (c === '[' || c === ']') out.push({ t: c === '[' ? 'lb' : 'rb', v: c });
    else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionError(`unterminated string at ${i}`);
      out.push({ t: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))![0];
      out.push({ t: 'num', v: m });
      i += m.length;
      continue;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i))![0];
      out.push({ t: 'id', v: m });
      i += m.length;
      continue;
    } else throw new ExpressionError(`unexpected "${c}" at ${i}`);
    i++;
  }
  return out;
}

/** Compile an expression; throws ExpressionError naming what it does not understand. */
export function compileExpression(src: string): Compiled {
  const toks = lex(src);
  let p = 0;
  const peek = () => toks[p];
  const take = () => toks[p++];
  const primary = (): Compiled => {
    const t = take();
    if (!t) throw new ExpressionError('unexpected end');
    if (t.t === 'num') {
      const n = Number(t.v);
      return () => n;
    }
    if (t.t === 'str') return () => t.v;
    if (t.t === 'lp') {
      const e = or();
      if (take()?.t !== 'rp') throw new ExpressionError('missing )');
      return e;
    }
    if (t.t === 'op' && t.v === '!') {
      const e = primary();
      return (a) => !e(a);
    }
    if (t.t === 'id') {
      if (t.v === 'true' || t.v === 'false') {
        const b = t.v === 'true';
        return () => b;
      }
      if (peek()?.t === 'lb') {
        take();
        const key = take();
        if (key?.t !== 'str' || take()?.t !== 'rb') throw new ExpressionError(`${t.v}[...] needs a quoted key`);
        const k = key.v.toLowerCase();
        return (a) => a(t.v, k);
      }
      return (a) => a(t.v);
    }
    throw new ExpressionError(`unexpected "${t.v}"`);
  };
  const cmp = (): Compiled => {
    const left = primary();
    const op = peek();
    if (op?.t === 'op' && ['==', '!=', '>=', '<=', '<', '>'].includes(op.v)) {
      take();
      const right = primary();
      const f = {
        '==': (x: unknown, y: unknown) => x == y, // eslint-disable-line eqeqeq -- CEL compares "200" and 200 loosely enough for these attributes
        '!=': (x: unknown, y: unknown) => x != y, // eslint-disable-line eqeqeq
        '>=': (x: unknown, y: unknown) => Number(x) >= Number(y),
        '<=': (x: unknown, y: unknown) => Number(x) <= Number(y),
        '<': (x: unknown, y: unknown) => Number(x) < Number(y),
        '>': (x: unknown, y: unknown) => Number(x) > Number(y),
      }[op.v]!;
      return (a) => f(left(a), right(a));
    }
    return left;
  };
  const and = (): Compiled => {
    let e = cmp();
    while (peek()?.t === 'op' && peek()!.v === '&&') {
      take();
      const l = e;
      const r = cmp();
      e = (a) => Boolean(l(a)) && Boolean(r(a));
    }
    return e;
  };
  const or = (): Compiled => {
    let e = and();
    while (peek()?.t === 'op' && peek()!.v === '||') {
      take();
      const l = e;
      const r = and();
      e = (a) => Boolean(l(a)) || Boolean(r(a));
    }
    return e;
  };
  const e = or();
  if (p < toks.length) throw new ExpressionError(`unexpected "${toks[p]!.v}"`);
  return e;
}
