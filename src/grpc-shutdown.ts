// Stopping a gRPC server without hanging: grpc-js's tryShutdown waits for every HTTP/2 session to report 'close',
// and a session that was destroyed before it was closed never does (Node's session.close() returns without calling
// back), so a graceful stop is given a grace period and then forced.

import type { Server } from '@grpc/grpc-js';

export function shutdownGrpcServer(server: Server, graceMs = 2_000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
