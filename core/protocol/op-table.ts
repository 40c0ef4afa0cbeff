import { ErrorCodes, HpckvError } from '../errors.js';
import type { OpName } from './messages.js';
import {
  validateDbRequest, validateScanRequest, type ValidScanRequest,
} from './validate/range-requests.js';
import {
  validateIndexGetRequest, validateIndexLookupRequest, validateIndexWriteRequest, type ValidIndexGet, type ValidIndexLookup,
  type ValidIndexWrite,
} from './validate/index-requests.js';
import {
  validateBatchRequest, validateEmptyRequest, validateGetManyRequest, validateKeyRequest, validateKeysRequest,
  validateKeysWriteRequest, validateKeyWriteRequest, validatePutManyBody, validatePutRequest, validateStatRequest,
  type EmptyRequest, type ValidKeyRequest, type ValidKeysRequest, type ValidKeysWriteRequest, type ValidKeyWriteRequest,
  type ValidPutRequest, type ValidStatRequest, type ValidWritesRequest,
} from './validate/kv-requests.js';
import { validatePutManyPart, type ValidPutManyPart } from './validate/put-many-part.js';
import {
  validateExecute, validateJobRequest, validateRegister, validateStageRequest, type ValidExecute, type ValidJob,
  type ValidProcStage, type ValidRegister,
} from './validate/procedure-requests.js';
import {
  validatePushRequest, validateRegionAttach, validateRegionPut, validateRegionStage, validateReleaseRequest, validateTestHold,
  type ValidRegionAttach, type ValidRegionPush, type ValidRegionPut, type ValidRegionRelease, type ValidRegionStage,
  type ValidTestHold,
} from './validate/region-requests.js';
import type { ValidationContext } from './validate/request-fields.js';
import {
  validateProcDone, validateRegionDone, validateRegionRead, validateRegionWrite, type ValidRegionWrite,
} from './validate/back-channel-requests.js';
import type { ProcDoneNotice } from './procedure-messages.js';
import type { RegionDoneNotice, RegionReadRequest } from './region-messages.js';

/**
 * Every operation of the protocol, in both directions, declared once: who answers it, how its
 * request is checked, and whether a retry after an unknown outcome is safe. The request body and
 * reply types are `OpTable` in core/protocol/messages.ts (client to server, keyed by the same
 * names: an op missing from either does not compile) and the notices of region-messages.ts and
 * procedure-messages.ts (server to client). Server dispatch (server/request-dispatch.ts) and the
 * client's back channel route by these entries, and the list of op names derives from them.
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
  /** Answered only by servers started with test hooks (HPCKV_TEST_HOOKS=1); UNKNOWN_OP elsewhere. */
  testOnly?: true;
}

/**
 * What each client-to-server request is once checked (keys and values as Buffers, defaults
 * filled in): the validator's result the owning service receives.
 */
export interface ValidRequests {
  hello: EmptyRequest;
  put: ValidPutRequest;
  get: ValidKeyRequest;
  del: ValidKeyWriteRequest;
  exists: ValidKeyRequest;
  length: ValidKeyRequest;
  batch: ValidWritesRequest;
  putMany: ValidWritesRequest;
  putManyPart: ValidPutManyPart;
  getMany: ValidKeysRequest & { packed: boolean };
  delMany: ValidKeysWriteRequest;
  existsMany: ValidKeysRequest;
  putIfAbsent: ValidPutRequest;
  append: ValidPutRequest;
  first: { db: string };
  last: { db: string };
  next: ValidKeyRequest;
  prev: ValidKeyRequest;
  scan: ValidScanRequest;
  count: ValidScanRequest;
  deleteRange: ValidScanRequest;
  indexWrite: ValidIndexWrite;
  indexLookup: ValidIndexLookup;
  indexGet: ValidIndexGet;
  regionAttach: ValidRegionAttach;
  regionPut: ValidRegionPut;
  regionStage: ValidRegionStage;
  regionPush: ValidRegionPush;
  regionRelease: ValidRegionRelease;
  regionTestHold: ValidTestHold;
  procRegister: ValidRegister;
  procExecute: ValidExecute;
  procPoll: ValidJob;
  procResults: ValidJob;
  procStage: ValidProcStage;
  procCancel: ValidJob;
  procWatch: ValidJob;
  stat: ValidStatRequest;
  shutdown: EmptyRequest;
}

/** A client-to-server op's entry: its service, retry rule and request check. */
export interface ServerOpSpec<Op extends OpName, Service extends ServerService = ServerService> extends OpSpec<Service> {
  /** Checks a body straight off the wire; throws a typed error (BAD_REQUEST or the limit's code). */
  validate(body: unknown, context: ValidationContext): ValidRequests[Op];
}

type Check<Op extends OpName> = ServerOpSpec<Op>['validate'];
function op<Service extends ServerService, Op extends OpName>(service: Service, idempotent: boolean, validate: Check<Op>): ServerOpSpec<Op, Service> {
  return { service, idempotent, validate };
}

/** Client to server. A read is idempotent; so is a write whose second application changes nothing. */
export const SERVER_OPS = Object.freeze({
  hello: op('kv', true, validateEmptyRequest),
  put: op('kv', true, validatePutRequest),
  get: op('kv', true, validateKeyRequest),
  del: op('kv', true, validateKeyWriteRequest),
  exists: op('kv', true, validateKeyRequest),
  length: op('kv', true, validateKeyRequest),
  batch: op('kv', true, validateBatchRequest),
  putMany: op('kv', true, validatePutManyBody),
  // A part joins a staging in order: sent twice, the staging sees a part out of order and is dropped.
  putManyPart: op('stagedPuts', false, validatePutManyPart),
  getMany: op('kv', true, validateGetManyRequest),
  delMany: op('kv', true, validateKeysWriteRequest),
  existsMany: op('kv', true, validateKeysRequest),
  // Write-once: the second attempt finds its own first write (HPCKV_ERR_KEY_EXISTS).
  putIfAbsent: op('kv', false, validatePutRequest),
  // Appends twice.
  append: op('kv', false, validatePutRequest),
  first: op('kv', true, validateDbRequest),
  last: op('kv', true, validateDbRequest),
  next: op('kv', true, validateKeyRequest),
  prev: op('kv', true, validateKeyRequest),
  scan: op('kv', true, validateScanRequest),
  count: op('kv', true, validateScanRequest),
  deleteRange: op('kv', true, validateScanRequest),
  indexWrite: op('kv', true, validateIndexWriteRequest),
  indexLookup: op('kv', true, validateIndexLookupRequest),
  indexGet: op('kv', true, validateIndexGetRequest),
  regionAttach: op('regions', true, validateRegionAttach),
  // Each starts an operation with its own id and completion notice.
  regionPut: op('regions', false, validateRegionPut),
  regionStage: op('regions', false, validateRegionStage),
  regionPush: op('regions', false, validatePushRequest),
  regionRelease: op('regions', true, validateReleaseRequest),
  regionTestHold: { ...op('regions', false, validateTestHold), testOnly: true },
  procRegister: op('procedures', true, validateRegister),
  // Starts a job.
  procExecute: op('procedures', false, validateExecute),
  procPoll: op('procedures', true, validateJobRequest),
  // Each call hands over the next results and frees them on the server.
  procResults: op('procedures', false, validateJobRequest),
  procStage: op('procedures', false, validateStageRequest),
  procCancel: op('procedures', true, validateJobRequest),
  procWatch: op('procedures', true, validateJobRequest),
  stat: op('kv', true, validateStatRequest),
  shutdown: op('process', true, validateEmptyRequest),
} satisfies { readonly [Op in OpName]: ServerOpSpec<Op> });

/** The ops a service answers, e.g. `ServiceOps<'regions'>`: handler maps are typed by it. */
export type ServiceOps<Service extends ServerService> = {
  [Op in OpName]: (typeof SERVER_OPS)[Op]['service'] extends Service ? Op : never
}[OpName];

/** What each server-to-client (back-channel) request is once checked. */
export interface ValidBackChannelRequests {
  regionRead: RegionReadRequest;
  regionWrite: ValidRegionWrite;
  regionDone: RegionDoneNotice;
  procDone: ProcDoneNotice;
}

/** The server-to-client operations (back channel). */
export type BackChannelOpName = keyof ValidBackChannelRequests;

/** A back-channel op's entry: the client's service that answers it, its retry rule and request check. */
export interface ClientOpSpec<Op extends BackChannelOpName, Service extends ClientService = ClientService> extends OpSpec<Service> {
  validate(body: unknown): ValidBackChannelRequests[Op];
}

/** Server to client, on the client's own connection. */
export const CLIENT_OPS = Object.freeze({
  regionRead: { service: 'regionRegistry', idempotent: true, validate: validateRegionRead },
  regionWrite: { service: 'regionRegistry', idempotent: true, validate: validateRegionWrite },
  // A notice resolves the waiting handle once; a second copy would be a notice for nothing.
  regionDone: { service: 'regionCompletions', idempotent: false, validate: validateRegionDone },
  procDone: { service: 'procedureNotices', idempotent: false, validate: validateProcDone },
} as const satisfies { readonly [Op in BackChannelOpName]: ClientOpSpec<Op> });

/** The back-channel ops a client service answers: handler maps are typed by it. */
export type ClientServiceOps<Service extends ClientService> = {
  [Op in BackChannelOpName]: (typeof CLIENT_OPS)[Op]['service'] extends Service ? Op : never
}[BackChannelOpName];

/** Every client-to-server op name, in declaration order. */
export const OP_NAMES: readonly OpName[] = Object.freeze(Object.keys(SERVER_OPS) as OpName[]);

function lookup<Service extends string, Spec extends OpSpec<Service>>(table: Readonly<Record<string, Spec>>, op: unknown, side: string): Spec {
  const spec = typeof op === 'string' && Object.hasOwn(table, op) ? table[op] : undefined;
  if (spec !== undefined) return spec;
  const name = String(op).slice(0, 100);
  throw new HpckvError(ErrorCodes.UNKNOWN_OP, `unknown ${side} operation "${name}"`, { details: { op: name } });
}

/** The entry of a request a server received; HPCKV_ERR_UNKNOWN_OP for a name the protocol lacks. */
export function serverOp(op: unknown): ServerOpSpec<OpName> {
  return lookup<ServerService, ServerOpSpec<OpName>>(SERVER_OPS, op, 'server');
}

/** The entry of a back-channel request a client received; HPCKV_ERR_UNKNOWN_OP for a name the protocol lacks. */
export function clientOp(op: unknown): ClientOpSpec<BackChannelOpName> {
  return lookup<ClientService, ClientOpSpec<BackChannelOpName>>(CLIENT_OPS, op, 'back-channel');
}
