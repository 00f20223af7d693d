// A TCP port nothing listens on now, for a server that must be told its port before it starts (a child process).

import net from 'node:net';

/** `preferred` when it is free (else any free port; 0 asks for any), on `host`. Someone may take it before it is used. */
export function freePort(host = '127.0.0.1', preferred = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (err) => (preferred ? freePort(host, 0).then(resolve, reject) : reject(err)));
    s.listen(preferred, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
