// The benchmark's upstream: a plain node:http server answering every request with a fixed-size body.
// Run as a child process so its CPU is not the proxy's: node bench/lib/backend.mjs <size-bytes>
import http from 'node:http';

const size = Number(process.argv[2] ?? 100);
const body = Buffer.alloc(size, 'x');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000; // longer than any pool's idle timeout, so reused sockets are never closed under it
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
