// The TCP benchmark's upstream: an echo server. Run as a child process: node bench/lib/echo-backend.mjs
import net from 'node:net';

const conns = new Set();
const server = net.createServer({ noDelay: true }, (s) => {
  conns.add(s);
  s.on('data', (d) => s.write(d));
  s.on('error', () => s.destroy());
  s.on('close', () => conns.delete(s));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => {
  for (const s of conns) s.destroy();
  server.close(() => process.exit(0));
});
