// A loopback port that was free a moment ago, for the services and baselines the benches start.
import { createServer } from 'node:net';

/** Binds 127.0.0.1:0, reads the port the kernel chose, closes. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
