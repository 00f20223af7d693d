// Istio's TCP echo sample server (`istio/tcp-echo-server`, samples/tcp-echo): `tcp-echo <port,port,…> <prefix>`
// listens on each port and answers every line a client sends with `<prefix> <line>`, which tells which version
// (prefix) a connection reached — what Istio's TCP traffic-shifting task counts.

import net from 'node:net';
import { bindAddress, isMain, parsePort, runUntilSignal, type Env } from './lib/serve.js';

export interface TcpEcho {
  host: string;
  ports: number[];
  close(): Promise<void>;
}

function serve(prefix: string): net.Server {
  return net.createServer((socket) => {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl + 1);
        pending = pending.slice(nl + 1);
        socket.write(`${prefix} ${line}`);
      }
    });
    // A last line without its newline is answered when the client half-closes, as a line reader sees it at EOF.
    socket.on('end', () => (pending ? socket.end(`${prefix} ${pending}`) : socket.end()));
    socket.on('error', () => socket.destroy());
  });
}

/** Listens on every port (0 picks one) at the bind address, answering with `prefix`. */
export async function startTcpEcho(ports: readonly number[], prefix: string, env: Env = process.env, host = bindAddress(env)): Promise<TcpEcho> {
  const servers: net.Server[] = [];
  const bound: number[] = [];
  const close = () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
  try {
    for (const port of ports) {
      const s = serve(prefix);
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => resolve());
      });
      bound.push((s.address() as net.AddressInfo).port);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { host, ports: bound, close };
}

/** `9000,9001 hello` as the image's arguments; PORT when no port is given. */
export function parseArgs(argv: readonly string[], env: Env): { ports: number[]; prefix: string } {
  const ports = (argv[0] ?? env.PORT ?? '9000').split(',').map((p) => parsePort(p));
  if (ports.some((p) => p === undefined)) throw new Error(`usage: tcp-echo <port,...> <prefix> (got ${JSON.stringify(argv[0])})`);
  return { ports: ports as number[], prefix: argv[1] ?? 'hello' };
}

if (isMain(import.meta.url)) {
  runUntilSignal('tcp-echo', async () => {
    const { ports, prefix } = parseArgs(process.argv.slice(2), process.env);
    const app = await startTcpEcho(ports, prefix);
    return { close: app.close, describe: `listening on ${app.host}:${app.ports.join(',')} (prefix ${prefix})` };
  });
}
