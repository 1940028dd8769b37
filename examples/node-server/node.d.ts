/**
 * Types of the reference node (node.js). The implementation is plain ESM JavaScript so that it
 * runs with `node` after `npm run build`; this file gives TypeScript callers (the tests) its API.
 */
import type { Server } from 'node:http';
import type { Hono } from 'hono';
import type { WebSocketServer } from 'ws';
import type { Auth } from '../../src/index.js';

/** `embedded`: the node mounts createAuth and guards its routes; `proxy`: a reverse proxy does. */
export type AuthMode = 'embedded' | 'proxy';

/** Who is calling, as the node's handlers see it. */
export interface NodeIdentity {
  keyId: string;
  /** Effective permissions (embedded) or the token's claims (proxy, from X-Auth-Permissions). */
  permissions: string[];
  /** Embedded mode only: the root key's public key, null for client keys. */
  publicKey?: string | null;
  /** Embedded mode only. */
  sid?: string;
}

/** What a context's subscribers receive. */
export interface NodeEvent {
  contextId: string;
  type: 'StateMutation';
  data: unknown;
}

export interface NodeOptions {
  authMode: AuthMode;
  /** Required in embedded mode: the service the node mounts and whose guard it uses. */
  auth?: Auth;
}

export interface Node {
  app: Hono<{ Variables: { identity: NodeIdentity | undefined } }>;
  wss: WebSocketServer;
  /** Ends SSE streams and WebSockets (the HTTP server is closed by its owner). */
  close(): void;
}

export interface RunningNode {
  node: Node;
  server: Server;
  port: number;
  /** `http://<host>:<port>` */
  url: string;
  /** Stops accepting, ends streams and sockets, then closes the auth service if embedded. */
  close(): Promise<void>;
}

export declare function createNode(options: NodeOptions): Node;
export declare function startNode(options: NodeOptions & { host?: string; port?: number }): Promise<RunningNode>;
