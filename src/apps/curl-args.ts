// Command-line parsing for the curl stand-in: the subset of curl's options the Istio docs and tests use, with curl's bundling rules (-sSo FILE, -HHost:x).

export class CurlUsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
  }
}

/** One -d/--data* argument and how curl reads it: `ascii` (-d: @file, line breaks dropped), `binary` (@file as is), `raw` (no @), `urlencode`. */
export interface DataPart {
  kind: 'ascii' | 'binary' | 'raw' | 'urlencode';
  value: string;
}

export interface CurlOptions {
  urls: string[];
  method?: string;
  headers: string[];
  data: DataPart[];
  /** -G: send the -d data as the query string of a GET. */
  getWithData: boolean;
  output?: string;
  writeOut?: string;
  silent: boolean;
  showError: boolean;
  verbose: boolean;
  include: boolean;
  head: boolean;
  location: boolean;
  fail: boolean;
  insecure: boolean;
  maxTimeS?: number;
  connectTimeoutS?: number;
  userAgent?: string;
  cookie?: string;
  user?: string;
  proxy?: string;
  noProxy?: string;
  maxRedirs: number;
  resolve: Map<string, string>;
  cacert?: string;
  cert?: string;
  key?: string;
}

/** Options that take a value, and plain flags, by short name → long name. */
const VALUE_SHORT: Record<string, string> = {
  X: 'request',
  H: 'header',
  d: 'data',
  o: 'output',
  w: 'write-out',
  m: 'max-time',
  A: 'user-agent',
  b: 'cookie',
  u: 'user',
  x: 'proxy',
  e: 'referer',
};
const FLAG_SHORT: Record<string, string> = {
  s: 'silent',
  S: 'show-error',
  v: 'verbose',
  i: 'include',
  I: 'head',
  L: 'location',
  f: 'fail',
  k: 'insecure',
  G: 'get',
  N: 'no-buffer',
  '#': 'progress-bar',
};
const VALUE_LONG = new Set([
  'request',
  'header',
  'data',
  'data-raw',
  'data-binary',
  'data-ascii',
  'data-urlencode',
  'output',
  'write-out',
  'max-time',
  'connect-timeout',
  'user-agent',
  'cookie',
  'user',
  'proxy',
  'noproxy',
  'resolve',
  'cacert',
  'cert',
  'key',
  'max-redirs',
  'referer',
  'url',
  'retry',
  'retry-delay',
  'retry-max-time',
  'connect-to',
]);
const FLAG_LONG = new Set([
  'silent',
  'show-error',
  'verbose',
  'include',
  'head',
  'location',
  'fail',
  'insecure',
  'get',
  'no-buffer',
  'progress-bar',
  'http1.1',
  'http1.0',
  'http2',
  'http2-prior-knowledge',
  'compressed',
  'no-keepalive',
  'fail-with-body',
  'globoff',
  'path-as-is',
]);

function seconds(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new CurlUsageError(`option --${name}: expected a proper numerical parameter`);
  return n;
}

export function parseCurlArgs(argv: readonly string[]): CurlOptions {
  const o: CurlOptions = {
    urls: [],
    headers: [],
    data: [],
    getWithData: false,
    silent: false,
    showError: false,
    verbose: false,
    include: false,
    head: false,
    location: false,
    fail: false,
    insecure: false,
    maxRedirs: 50,
    resolve: new Map(),
  };

  const apply = (name: string, value: string | undefined): void => {
    switch (name) {
      case 'silent':
        o.silent = true;
        return;
      case 'show-error':
        o.showError = true;
        return;
      case 'verbose':
        o.verbose = true;
        return;
      case 'include':
        o.include = true;
        return;
      case 'head':
        o.head = true;
        return;
      case 'location':
        o.location = true;
        return;
      case 'fail':
      case 'fail-with-body':
        o.fail = true;
        return;
      case 'insecure':
        o.insecure = true;
        return;
      case 'get':
        o.getWithData = true;
        return;
      case 'request':
        o.method = value;
        return;
      case 'header':
        o.headers.push(value!);
        return;
      case 'data':
      case 'data-ascii':
        o.data.push({ kind: 'ascii', value: value! });
        return;
      case 'data-binary':
        o.data.push({ kind: 'binary', value: value! });
        return;
      case 'data-raw':
        o.data.push({ kind: 'raw', value: value! });
        return;
      case 'data-urlencode':
        o.data.push({ kind: 'urlencode', value: value! });
        return;
      case 'output':
        o.output = value;
        return;
      case 'write-out':
        o.writeOut = value;
        return;
      case 'max-time':
        o.maxTimeS = seconds(name, value!);
        return;
      case 'connect-timeout':
        o.connectTimeoutS = seconds(name, value!);
        return;
      case 'user-agent':
        o.userAgent = value;
        return;
      case 'cookie':
        o.cookie = value;
        return;
      case 'user':
        o.user = value;
        return;
      case 'proxy':
        o.proxy = value;
        return;
      case 'noproxy':
        o.noProxy = value;
        return;
      case 'referer':
        o.headers.push(`Referer: ${value}`);
        return;
      case 'url':
        o.urls.push(value!);
        return;
      case 'max-redirs':
        o.maxRedirs = seconds(name, value!);
        return;
      case 'resolve': {
        const m = /^(\+?)(\[[^\]]+\]|[^:]+):(\d+):(.+)$/.exec(value!);
        if (!m) throw new CurlUsageError(`Couldn't parse CURLOPT_RESOLVE entry '${value}'`, 49);
        o.resolve.set(`${m[2]}:${m[3]}`, m[4]!.split(',')[0]!);
        return;
      }
      case 'cacert':
        o.cacert = value;
        return;
      case 'cert':
        o.cert = value;
        return;
      case 'key':
        o.key = value;
        return;
      default:
        // Accepted for compatibility, no effect here (HTTP versions, compression, retries, progress).
        return;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--') && arg.length > 2) {
      let name = arg.slice(2);
      let value: string | undefined;
      const eq = name.indexOf('=');
      if (eq > 0 && VALUE_LONG.has(name.slice(0, eq))) {
        value = name.slice(eq + 1);
        name = name.slice(0, eq);
      }
      if (VALUE_LONG.has(name)) {
        if (value === undefined) {
          value = argv[++i];
          if (value === undefined) throw new CurlUsageError(`option --${name}: requires parameter`);
        }
        apply(name, value);
      } else if (FLAG_LONG.has(name)) {
        apply(name, undefined);
      } else {
        throw new CurlUsageError(`option --${name}: is unknown`);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        if (VALUE_SHORT[c]) {
          let value = arg.slice(j + 1);
          if (!value) {
            value = argv[++i] ?? '';
            if (i >= argv.length) throw new CurlUsageError(`option -${c}: requires parameter`);
          }
          apply(VALUE_SHORT[c]!, value);
          break;
        }
        if (FLAG_SHORT[c]) {
          apply(FLAG_SHORT[c]!, undefined);
          continue;
        }
        throw new CurlUsageError(`option -${arg.slice(j)}: is unknown`);
      }
      continue;
    }
    o.urls.push(arg);
  }
  if (o.urls.length === 0) throw new CurlUsageError('no URL specified');
  return o;
}
