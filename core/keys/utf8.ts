/**
 * Strict UTF-8 for string keys. UTF-8 byte order is Unicode code point order, which is why string
 * keys are stored as plain UTF-8. Decoding is fatal (overlong forms, encoded surrogates and
 * truncated sequences are malformed keys, so every string has exactly one encoding) and keeps a
 * leading U+FEFF, which a default TextDecoder would silently drop.
 */

import { badKey } from './key-errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The caller has refused lone surrogates (key-check.ts), so this encoding is exact. */
export function encodeUtf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw badKey('bytes are not well-formed UTF-8', { reason: 'malformed encoding', expected: 'string', got: 'invalid UTF-8' });
  }
}
