import { Packr } from 'msgpackr';
import { ErrorCodes, HpckvError } from '../errors.js';

/**
 * msgpack encoding of every message hpckv sends (rpc and communicator). One Packr for the
 * whole process: plain maps and arrays (no shared record structures, so any peer can decode
 * any message on its own), byte arrays as msgpack bin, 64-bit integers as bigint.
 */
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'bigint',
  useBigIntExtension: false,
});

export function encodeMessage(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes one message; malformed bytes are HPCKV_ERR_PROTOCOL. */
export function decodeMessage(payload: Buffer): unknown {
  try {
    return packr.unpack(payload);
  } catch (cause) {
    throw new HpckvError(ErrorCodes.PROTOCOL, 'malformed message: ' + (cause instanceof Error ? cause.message : String(cause)), { cause });
  }
}
