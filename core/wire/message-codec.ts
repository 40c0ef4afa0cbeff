import { Packr, RESERVE_START_SPACE } from 'msgpackr';
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

/** Decodes messages encoded one after another into one buffer (each by encodeMessage); malformed bytes are HPCKV_ERR_PROTOCOL. */
export function decodeMessages(payload: Buffer): unknown[] {
  try {
    return packr.unpackMultiple(payload) as unknown[];
  } catch (cause) {
    throw new HpckvError(ErrorCodes.PROTOCOL, 'malformed messages: ' + (cause instanceof Error ? cause.message : String(cause)), { cause });
  }
}

const PREFIX_BYTES = 4;

/**
 * Encodes a message as one complete frame (4-byte length prefix + msgpack) in a single buffer:
 * msgpackr reserves the prefix space in front of the payload, so no second copy is made.
 */
export function encodeFramedMessage(value: unknown): Buffer {
  const frame = packr.pack(value, RESERVE_START_SPACE | PREFIX_BYTES);
  frame.writeUInt32BE(frame.length - PREFIX_BYTES, 0);
  return frame;
}
