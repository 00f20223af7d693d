// The tcp-echo stand-in (Istio's `istio/tcp-echo-server` sample: `tcp-echo-server 9000,9001 hello`): on each port,
// every line a client sends comes back as `<prefix> <line>`. With TLS_CERT_FILE and TLS_KEY_FILE it speaks TLS and
// says which server name the client asked for (`<prefix> sni=<name> <line>`), a TLS backend for SNI routing tests.

import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { bindAddress, isMain, type Env } from './lib/serve.js';

export interface TcpEcho {
  ports: number[];
  close(): Promise<void>;
}

/** Serves `ports` (0 picks one); resolves when all listen. */
export async function startTcpEcho(o: { ports: number[]; prefix: string; host?: string; env?: Env }): Promise<TcpEcho> {
  const env = o.env ?? process.env;
  const host = o.host ?? bindAddress(env);
  const secure = env.TLS_CERT_FILE && env.TLS_KEY_FILE ? { cert: readFileSync(env.TLS_CERT_FILE), key: readFileSync(env.TLS_KEY_FILE) } : undefined;
  const serve = (socket: net.Socket, sni?: string) => {
    socket.on('error', () => socket.destroy());
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        socket.write(`${o.prefix}${sni !== undefined ? ` sni=${sni}` : ''} ${line}\n`);
      }
    });
  };
  const servers = o.ports.map(() => (secure ? tls.createServer(secure, (s) => serve(s, s.servername || '')) : net.createServer((s) => serve(s))));
  const ports = await Promise.all(
    servers.map((srv, i) => new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(o.ports[i], host, () => resolve((srv.address() as net.AddressInfo).port));
    })),
  );
  return { ports, close: () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined) };
}

if (isMain(import.meta.url)) {
  const [portsArg = '9000', prefix = 'hello'] = process.argv.slice(2);
  const ports = portsArg.split(',').map(Number);
  const echo = await startTcpEcho({ ports, prefix });
  for (const p of echo.ports) process.stdout.write(`tcp-echo: listening on ${bindAddress(process.env)}:${p}\n`);
  const stop = () => void echo.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
