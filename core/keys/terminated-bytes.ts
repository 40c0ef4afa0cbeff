/**
 * Variable-length tuple components (strings, bytes): the content with every 0x00 written as
 * 0x00 0xFF, then a 0x00 terminator (FoundationDB's scheme). Order is preserved because the
 * terminator 0x00 is followed by a tag (1..0xFE, never 0xFF), a nested tuple's end (0x00) or the
 * end of the key, all below the 0xFF of an escaped 0x00 and below any content byte >= 0x01; so a
 * component sorts before its extensions and the boundary between components cannot be mistaken.
 */

import { badKey } from './key-errors.js';

export const TERMINATOR = 0x00;
const ESCAPE = 0xff;

export function encodeTerminated(content: Uint8Array): Buffer {
  let zeros = 0;
  for (const byte of content) if (byte === 0) zeros++;
  const out = Buffer.alloc(content.length + zeros + 1);
  let o = 0;
  for (const byte of content) {
    out[o++] = byte;
    if (byte === 0) out[o++] = ESCAPE;
  }
  out[o] = TERMINATOR;
  return out;
}

/** Reads a terminated component at `offset`; returns its content (a copy) and the offset after it. */
export function decodeTerminated(bytes: Uint8Array, offset: number, expected: string): { content: Uint8Array; next: number } {
  const parts: number[] = [];
  let i = offset;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (byte !== 0) {
      parts.push(byte);
      i++;
    } else if (bytes[i + 1] === ESCAPE) {
      parts.push(0);
      i += 2;
    } else {
      return { content: Uint8Array.from(parts), next: i + 1 };
    }
  }
  throw badKey(`bytes end inside a ${expected} component (no terminator)`, {
    reason: 'malformed encoding', expected, got: 'unterminated component',
  });
}
