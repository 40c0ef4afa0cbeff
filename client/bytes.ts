import { toBytes, type BytesInput } from '../core/keys/key-input.js';
import type { Limits } from '../core/limits.js';
import { checkEntries, checkKey, checkValue } from '../core/protocol/field-checks.js';

/** What callers may pass as a key or value: bytes, or a string stored as its UTF-8 bytes. */
export type { BytesInput };

/**
 * Checks a key on the client, so an oversized key fails before it costs a round trip. The
 * server checks again: it cannot trust clients.
 */
export function keyBytes(input: BytesInput, limits: Limits): Uint8Array {
  return checkKey(toBytes(input, 'key'), limits);
}

export function valueBytes(input: BytesInput, limits: Limits): Uint8Array {
  return checkValue(toBytes(input, 'value'), limits);
}

export function checkBatchEntries(count: number, limits: Limits): void {
  checkEntries(count, limits, 'batch');
}

/** Values arrive as Uint8Array views of the reply frame; hand callers Buffers (no copy). */
export { asBuffer } from '../core/wire/as-buffer.js';
