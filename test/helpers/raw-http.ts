import { connect } from 'node:net';
import { expect } from 'vitest';

/** An answer read off a raw socket: header names lower-cased (each must come once). */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  /** The status line and header lines as sent. */
  head: string;
  body: string;
}

/**
 * Sends one request written line by line over a raw socket (so repeated headers, odd Hosts and
 * any number of lines reach the server as written); `Connection: close` is added and ends the
 * answer.
 */
export function sendRaw(port: number, head: string[], body = ''): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        expect(headers[name], `header ${name} twice`).toBeUndefined();
        headers[name] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine?.split(' ')[1]), headers, head: text.slice(0, split), body: text.slice(split + 4) });
    });
    socket.write([...head, 'Connection: close', '', body].join('\r\n'));
  });
}

/** `n` ordinary header lines (`f0: x` …), to push the ones that matter further down. */
export const fillerHeaders = (n: number): string[] => Array.from({ length: n }, (_, i) => `f${i}: x`);
