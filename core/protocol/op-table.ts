import { ErrorCodes, HpckvError } from '../errors.js';
import type { OpName } from '../protocol.js';

/**
 * Every operation of the protocol, in both directions, declared once: who answers it and whether
 * a retry after an unknown outcome is safe. Server and client dispatch route by these entries,
 * and the list of op names is derived from them. Request and reply shapes are the `OpTable`
 * types of core/protocol.ts (client to server) and the notices of core/region-protocol.ts and
 * core/procedure-protocol.ts (server to client); a client-to-server op without an entry here does
 * not compile.
 */

/** What answers a client's request on the server. */
export type ServerService =
  /** The server process itself (shutdown). */
  | 'process'
  /** The Provider's databases (server/provider.ts). */
  | 'kv'
  /** putMany in parts (server/staged-puts.ts). */
  | 'stagedPuts'
  /** Client-memory operations (server/region-service.ts). */
  | 'regions'
  /** Procedure jobs (server/procedure-jobs.ts). */
  | 'procedures';

/** What answers a server's request on the client's connection (the back channel). */
export type ClientService =
  /** Pulls from and pushes into registered regions (client/region-registry.ts). */
  | 'regionRegistry'
  /** Completion notices of client-memory operations (client/region-handle.ts). */
  | 'regionCompletions'
  /** Completion notices of procedure jobs (client/procedure-handle.ts). */
  | 'procedureNotices';

export interface OpSpec<Service extends string> {
  service: Service;
  /**
   * True when sending the request again after an unknown outcome (a lost connection) leaves the
   * same state and answers the same: what the retry rules of membership changes will rely on.
   */
  idempotent: boolean;
  /** Answered only by servers started with test hooks. */
  testOnly?: true;
}

const kv = (idempotent: boolean): OpSpec<ServerService> => ({ service: 'kv', idempotent });
const regions = (idempotent: boolean): OpSpec<ServerService> => ({ service: 'regions', idempotent });
const procedures = (idempotent: boolean): OpSpec<ServerService> => ({ service: 'procedures', idempotent });

/** Client to server. A read is idempotent; so is a write whose second application changes nothing. */
export const SERVER_OPS: Readonly<Record<OpName, OpSpec<ServerService>>> = Object.freeze({
  hello: kv(true),
  put: kv(true),
  get: kv(true),
  del: kv(true),
  exists: kv(true),
  length: kv(true),
  batch: kv(true),
  putMany: kv(true),
  // A part joins a staging in order: sent twice, the staging sees a part out of order and is dropped.
  putManyPart: { service: 'stagedPuts', idempotent: false },
  getMany: kv(true),
  delMany: kv(true),
  existsMany: kv(true),
  // Write-once: the second attempt finds its own first write (HPCKV_ERR_KEY_EXISTS).
  putIfAbsent: kv(false),
  // Appends twice.
  append: kv(false),
  first: kv(true),
  last: kv(true),
  next: kv(true),
  prev: kv(true),
  scan: kv(true),
  count: kv(true),
  deleteRange: kv(true),
  indexWrite: kv(true),
  indexLookup: kv(true),
  indexGet: kv(true),
  regionAttach: regions(true),
  // Each starts an operation with its own id and completion notice.
  regionPut: regions(false),
  regionStage: regions(false),
  regionPush: regions(false),
  regionRelease: regions(true),
  regionTestHold: { service: 'regions', idempotent: false, testOnly: true },
  procRegister: procedures(true),
  // Starts a job.
  procExecute: procedures(false),
  procPoll: procedures(true),
  // Each call hands over the next results and frees them on the server.
  procResults: procedures(false),
  procStage: procedures(false),
  procCancel: procedures(true),
  procWatch: procedures(true),
  stat: kv(true),
  shutdown: { service: 'process', idempotent: true },
});

/** The server-to-client operations (back channel). */
export type BackChannelOpName = 'regionRead' | 'regionWrite' | 'regionDone' | 'procDone';

/** Server to client, on the client's own connection. */
export const CLIENT_OPS: Readonly<Record<BackChannelOpName, OpSpec<ClientService>>> = Object.freeze({
  regionRead: { service: 'regionRegistry', idempotent: true },
  regionWrite: { service: 'regionRegistry', idempotent: true },
  // A notice resolves the waiting handle once; a second copy would be a notice for nothing.
  regionDone: { service: 'regionCompletions', idempotent: false },
  procDone: { service: 'procedureNotices', idempotent: false },
});

/** Every client-to-server op name, in declaration order. */
export const OP_NAMES: readonly OpName[] = Object.freeze(Object.keys(SERVER_OPS) as OpName[]);

function lookup<Service extends string>(table: Readonly<Record<string, OpSpec<Service>>>, op: unknown, side: string): OpSpec<Service> {
  const spec = typeof op === 'string' && Object.hasOwn(table, op) ? table[op] : undefined;
  if (spec !== undefined) return spec;
  const name = String(op).slice(0, 100);
  throw new HpckvError(ErrorCodes.UNKNOWN_OP, `unknown ${side} operation "${name}"`, { details: { op: name } });
}

/** The entry of a request a server received; HPCKV_ERR_UNKNOWN_OP for a name the protocol lacks. */
export function serverOp(op: unknown): OpSpec<ServerService> {
  return lookup(SERVER_OPS, op, 'server');
}

/** The entry of a back-channel request a client received; HPCKV_ERR_UNKNOWN_OP for a name the protocol lacks. */
export function clientOp(op: unknown): OpSpec<ClientService> {
  return lookup(CLIENT_OPS, op, 'back-channel');
}
