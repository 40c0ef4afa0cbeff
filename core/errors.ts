/**
 * The one error type of hpckv. Every failure that crosses a module or process boundary is an
 * `HpckvError` with a stable `code`; programmer mistakes inside one process are `TypeError`s.
 * Codes are listed (with their meaning) in docs/errors.md; keep both in step.
 */

export const ErrorCodes = {
  /** A key is empty or longer than `limits.keyBytesMax`. */
  KEY_TOO_LARGE: 'HPCKV_ERR_KEY_TOO_LARGE',
  /** A key is not a value of the store's key type, or cannot be encoded (NaN, out of range). */
  BAD_KEY: 'HPCKV_ERR_BAD_KEY',
  /** A value is longer than `limits.valueBytesMax`. */
  VALUE_TOO_LARGE: 'HPCKV_ERR_VALUE_TOO_LARGE',
  /** A batch or bulk request has more than `limits.batchEntriesMax` entries. */
  BATCH_TOO_LARGE: 'HPCKV_ERR_BATCH_TOO_LARGE',
  /** A frame (one rpc message) is larger than `limits.frameBytesMax`. */
  FRAME_TOO_LARGE: 'HPCKV_ERR_FRAME_TOO_LARGE',
  /** More requests in flight on one connection than `limits.inFlightRequestsPerConnectionMax`. */
  TOO_MANY_IN_FLIGHT: 'HPCKV_ERR_TOO_MANY_IN_FLIGHT',
  /** More connections to one server than `limits.connectionsPerServerMax`. */
  TOO_MANY_CONNECTIONS: 'HPCKV_ERR_TOO_MANY_CONNECTIONS',
  /** A request is not of the shape its operation needs (wrong field types, missing fields). */
  BAD_REQUEST: 'HPCKV_ERR_BAD_REQUEST',
  /** The operation name is not one the server knows. */
  UNKNOWN_OP: 'HPCKV_ERR_UNKNOWN_OP',
  /** The database name is not one the server owns. */
  UNKNOWN_DATABASE: 'HPCKV_ERR_UNKNOWN_DATABASE',
  /** A write-once put found the key already stored. */
  KEY_EXISTS: 'HPCKV_ERR_KEY_EXISTS',
  /** Creating a secondary index whose name is taken by an index of another definition. */
  INDEX_EXISTS: 'HPCKV_ERR_INDEX_EXISTS',
  /** Opening a secondary index that no catalog record defines (or defines ambiguously). */
  UNKNOWN_INDEX: 'HPCKV_ERR_UNKNOWN_INDEX',
  /** Bytes on a connection are not a valid frame or message; the connection is closed. */
  PROTOCOL: 'HPCKV_ERR_PROTOCOL',
  /** A request did not complete within its timeout. */
  TIMEOUT: 'HPCKV_ERR_TIMEOUT',
  /** The caller aborted the request through its `AbortSignal`. */
  ABORTED: 'HPCKV_ERR_ABORTED',
  /** The connection closed before the request completed (the server may or may not have applied it). */
  CONNECTION_CLOSED: 'HPCKV_ERR_CONNECTION_CLOSED',
  /** A connection could not be established. */
  CONNECT_FAILED: 'HPCKV_ERR_CONNECT_FAILED',
  /** The server is shutting down and takes no new requests. */
  SHUTTING_DOWN: 'HPCKV_ERR_SHUTTING_DOWN',
  /** A configuration value (limits, launcher, facade config) is invalid. */
  BAD_CONFIG: 'HPCKV_ERR_BAD_CONFIG',
  /** A group file is missing, unreadable, corrupt, or does not match this server. */
  GROUP_FILE: 'HPCKV_ERR_GROUP_FILE',
  /** A communicator operation failed (peer lost, bad rank, closed). */
  COMM: 'HPCKV_ERR_COMM',
  /** The underlying store (LevelDB) failed. */
  STORE: 'HPCKV_ERR_STORE',
  /** A region descriptor reaches outside its region (or its parent descriptor), or a transfer outside the descriptor. */
  REGION_BOUNDS: 'HPCKV_ERR_REGION_BOUNDS',
  /** A region descriptor names a region its owner does not have (never registered, or deregistered), or an owner not attached. */
  UNKNOWN_REGION: 'HPCKV_ERR_UNKNOWN_REGION',
  /** A transfer needs an access the region was not registered with (a push into a read-only region). */
  REGION_ACCESS: 'HPCKV_ERR_REGION_ACCESS',
  /** A region cannot be deregistered while operations on it are pending. */
  REGION_BUSY: 'HPCKV_ERR_REGION_BUSY',
  /** The results of a get or scan do not fit the region given for them (details.bytesNeeded). */
  REGION_TOO_SMALL: 'HPCKV_ERR_REGION_TOO_SMALL',
  /** The packed layout in a region is malformed (counts or sizes do not add up to its length). */
  BAD_LAYOUT: 'HPCKV_ERR_BAD_LAYOUT',
  /** A procedure's source does not compile, or is not of its kind's shape (a reduce without step). */
  PROCEDURE_SYNTAX: 'HPCKV_ERR_PROCEDURE_SYNTAX',
  /** A procedure hash names no procedure the server has compiled (send the source). */
  UNKNOWN_PROCEDURE: 'HPCKV_ERR_UNKNOWN_PROCEDURE',
  /** A procedure job used more CPU time than its budget (`limits.procedureCpuMsMax`). */
  PROCEDURE_BUDGET: 'HPCKV_ERR_PROCEDURE_BUDGET',
  /** One batch call of a procedure ran longer than `limits.procedureWallMsMax` and was stopped. */
  PROCEDURE_TIMEOUT: 'HPCKV_ERR_PROCEDURE_TIMEOUT',
  /** A procedure exceeded its isolate's memory (`limits.procedureIsolateMemoryMbMax`); the isolate was replaced. */
  PROCEDURE_MEMORY: 'HPCKV_ERR_PROCEDURE_MEMORY',
  /** A procedure threw (its message is kept), overflowed its stack, or returned a value of the wrong shape. */
  PROCEDURE_FAILED: 'HPCKV_ERR_PROCEDURE_FAILED',
  /**
   * The group asks for its shared secret and this connection did not prove it (no proof, a wrong
   * one, or a request before it); the server closes the connection. Also: a server of a group with
   * a secret could not prove it to the client.
   */
  UNAUTHENTICATED: 'HPCKV_ERR_UNAUTHENTICATED',
  /** A bug: an invariant did not hold. */
  INTERNAL: 'HPCKV_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** Codes that mean "try again later, possibly elsewhere" unless the thrower says otherwise. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.TIMEOUT,
  ErrorCodes.CONNECTION_CLOSED,
  ErrorCodes.CONNECT_FAILED,
  ErrorCodes.SHUTTING_DOWN,
  ErrorCodes.TOO_MANY_IN_FLIGHT,
  ErrorCodes.TOO_MANY_CONNECTIONS,
]);

/** Extra, machine-readable facts about an error (limit names and values, sizes, ranks). */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface HpckvErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  details?: ErrorDetails;
}

export class HpckvError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: HpckvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HpckvError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.details = options.details ?? {};
  }
}

export function isHpckvError(error: unknown, code?: ErrorCode): error is HpckvError {
  return error instanceof HpckvError && (code === undefined || error.code === code);
}

/** The form an error takes on the wire (inside an rpc error response). */
export interface WireError {
  code: string;
  message: string;
  retryable: boolean;
  details: Record<string, string | number | boolean | null>;
}

export function errorToWire(error: unknown): WireError {
  if (error instanceof HpckvError) {
    return { code: error.code, message: error.message, retryable: error.retryable, details: { ...error.details } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: ErrorCodes.INTERNAL, message, retryable: false, details: {} };
}

/** Rebuilds an error received from a peer. Unknown codes (a newer peer) become INTERNAL, keeping the text. */
export function errorFromWire(wire: unknown): HpckvError {
  if (typeof wire !== 'object' || wire === null) {
    return new HpckvError(ErrorCodes.PROTOCOL, 'peer sent a malformed error');
  }
  const w = wire as Partial<WireError>;
  const code = typeof w.code === 'string' && KNOWN_CODES.has(w.code) ? (w.code as ErrorCode) : ErrorCodes.INTERNAL;
  const message = typeof w.message === 'string' ? w.message : 'remote error';
  const details = typeof w.details === 'object' && w.details !== null ? w.details : {};
  return new HpckvError(code, message, { retryable: w.retryable === true, details });
}
