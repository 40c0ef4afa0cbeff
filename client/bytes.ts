import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';

/** What callers may pass as a key or value: bytes, or a string stored as its UTF-8 bytes. */
export type BytesInput = Uint8Array | string;

export function toBytes(input: BytesInput, what: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  throw new TypeError(`${what} must be a Uint8Array or a string, got ${input === null ? 'null' : typeof input}`);
}

/**
 * Checks a key on the client, so an oversized key fails before it costs a round trip. The
 * server checks again: it cannot trust clients.
 */
export function keyBytes(input: BytesInput, limits: Limits): Uint8Array {
  return checkKey(toBytes(input, 'key'), limits);
}

/** An encoded key within the key limits (not empty, at most keyBytesMax). */
export function checkKey(key: Uint8Array, limits: Limits): Uint8Array {
  if (key.length === 0) throw new HpckvError(ErrorCodes.BAD_REQUEST, 'key must not be empty');
  if (key.length > limits.keyBytesMax) {
    throw new HpckvError(ErrorCodes.KEY_TOO_LARGE, `key of ${key.length} bytes exceeds keyBytesMax ${limits.keyBytesMax}`,
      { details: { limit: 'keyBytesMax', bytes: key.length, max: limits.keyBytesMax } });
  }
  return key;
}

export function valueBytes(input: BytesInput, limits: Limits): Uint8Array {
  const value = toBytes(input, 'value');
  if (value.length > limits.valueBytesMax) {
    throw new HpckvError(ErrorCodes.VALUE_TOO_LARGE, `value of ${value.length} bytes exceeds valueBytesMax ${limits.valueBytesMax}`,
      { details: { limit: 'valueBytesMax', bytes: value.length, max: limits.valueBytesMax } });
  }
  return value;
}

export function checkBatchEntries(count: number, limits: Limits): void {
  if (count > limits.batchEntriesMax) {
    throw new HpckvError(ErrorCodes.BATCH_TOO_LARGE, `batch of ${count} entries exceeds batchEntriesMax ${limits.batchEntriesMax}`,
      { details: { limit: 'batchEntriesMax', entries: count, max: limits.batchEntriesMax } });
  }
}

/** Values arrive as Uint8Array views of the reply frame; hand callers Buffers (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
