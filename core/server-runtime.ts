import { ErrorCodes, HpckvError } from './errors.js';
import type { PartitionSpec } from './group-file.js';
import type { Limits } from './limits.js';

/**
 * The seam that lets an application process host a server rank (SDSDKV's server personality)
 * without `client/` importing `server/`: the server layer registers how to start a rank, the
 * package entry point (index.ts) imports it, and the facades ask for it here.
 */
export interface EmbeddedServerOptions {
  rank: number;
  size: number;
  service: string;
  dataDir: string;
  databases: string[];
  listenAddress: string;
  limits: Limits;
  partition: PartitionSpec;
  epoch: number;
  /** The store's key type, text form (default `bytes`); recorded with the data. */
  keyType?: string;
  /** The group's shared secret: connections must prove it before any request runs (none: open to all). */
  authSecret?: Uint8Array;
}

export interface EmbeddedServer {
  readonly address: string;
  /** Settles once the server stopped (a client's shutdown request, or stop()). */
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

export type ServerStarter = (options: EmbeddedServerOptions) => Promise<EmbeddedServer>;

let registered: ServerStarter | undefined;

export function registerServerStarter(starter: ServerStarter): void {
  registered = starter;
}

export function serverStarter(): ServerStarter {
  if (registered === undefined) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG,
      'this process cannot host a server: import "hpckv" (the package entry) or "hpckv/server" first');
  }
  return registered;
}
