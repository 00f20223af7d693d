// Starting a sample app: listen on a port, report the bound address, and run a module as a program with graceful SIGTERM.

import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { pathToFileURL } from 'node:url';

/** Environment variables as an app sees them; tests pass their own instead of process.env. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What every `start*` function accepts. Port 0 picks a free port (tests use that). */
export interface StartOptions {
  port?: number;
  host?: string;
  env?: Env;
}

/** A started app: where it listens, and how to stop it. */
export interface RunningApp {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Default bind address: BIND_ADDRESS, else HOST when it is an IP literal (some shells export HOST=<hostname>), else all interfaces. */
export function bindAddress(env: Env): string {
  if (env.BIND_ADDRESS) return env.BIND_ADDRESS;
  const host = env.HOST;
  if (host && (isIP(host) !== 0 || host === 'localhost')) return host;
  return '0.0.0.0';
}

/** A port number from text, or undefined when the text is not a valid port. */
export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return n >= 0 && n <= 65535 ? n : undefined;
}

/** Listens and resolves once bound; close() also drops idle keep-alive connections so it never hangs. */
export function listen(server: Server, port: number, host: string): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      const boundPort = typeof addr === 'object' && addr ? addr.port : port;
      const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${urlHost}:${boundPort}`,
        host,
        port: boundPort,
        close: () => closeServer(server),
      });
    });
  });
}

/** Stops accepting, ends idle connections now and in-flight ones shortly after. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
    // Requests still running (e.g. a slow /delay) must not keep the process alive on shutdown.
    setTimeout(() => server.closeAllConnections(), 200).unref();
  });
}

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return moduleUrl === pathToFileURL(script).href;
  } catch {
    return false;
  }
}

/** Something that can be stopped; every app's start function returns one. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Runs a started app until SIGTERM/SIGINT, then closes it and exits 0.
 * Failures to start print one line and exit 1.
 */
export function runUntilSignal(name: string, start: () => Promise<Closable & { describe?: string }>): void {
  start().then(
    (app) => {
      if (app.describe) process.stdout.write(`${name}: ${app.describe}\n`);
      let stopping = false;
      const stop = (): void => {
        if (stopping) return;
        stopping = true;
        app.close().then(
          () => process.exit(0),
          () => process.exit(0),
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * The port for a program run from the command line: a numeric first argument
 * (upstream's images are started as `<app> 9080`), else PORT, else the default.
 */
export function programPort(argv: readonly string[], env: Env, fallback: number): number {
  return parsePort(argv[0]) ?? parsePort(env.PORT) ?? fallback;
}
