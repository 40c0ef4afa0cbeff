import type { WireError } from '../errors.js';

/**
 * The rpc envelope. Arrays, not maps, because they pack smaller and decode faster:
 *   request   [0, id, op, body]
 *   success   [1, id, result]
 *   failure   [2, id, error]      id 0 = about the connection, not one request
 * Ids are positive integers chosen by the requester, unique among its requests in flight.
 */
export const MessageKind = { request: 0, success: 1, failure: 2 } as const;

export type RequestMessage = [typeof MessageKind.request, number, string, unknown];
export type SuccessMessage = [typeof MessageKind.success, number, unknown];
export type FailureMessage = [typeof MessageKind.failure, number, WireError];

/** Id used for failures that concern the whole connection (it is then closed). */
export const CONNECTION_ERROR_ID = 0;

/** Largest request id before wrapping to 1; fits a msgpack uint32. */
export const REQUEST_ID_MAX = 0xffff_ffff;
