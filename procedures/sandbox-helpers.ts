import { sandboxKeyDecoder } from './sandbox-key-decoder.js';
import { sandboxMsgpack } from './sandbox-msgpack.js';
import { sandboxUtf8 } from './sandbox-utf8.js';

/**
 * The helpers procedures see as `hpckv`: a msgpack decoder, the store's key decoder and UTF-8.
 * `sandboxHelpers` puts them together from their parts, one file each; in a sandbox every part is
 * injected as source text beside it (`sandboxHelpersSource`), because a sandbox context sees no
 * module and no outer name.
 * - decodeMsgpack: nil, bool, all int widths, float32/64, str, bin (a copy), array, map, ext
 *   (timestamp -1 as a Date, others as { type, data }). 64-bit ints are Numbers when they are safe
 *   integers and BigInts otherwise. A map whose keys are all strings or numbers is a plain object
 *   (a `__proto__` key is an own property), any other map a Map. msgpackr's record extension is
 *   not supported: encode with `useRecords: false`. (sandbox-msgpack.ts)
 * - msgpackGet: one field (or a nested one, by a path of keys and indices) of a msgpack value,
 *   skipping the others unbuilt: a filter that tests one field of a large record pays for that
 *   field. (sandbox-msgpack.ts)
 * - decodeKey: the inverse of core/keys' encodings for the pool's key type (int64/uint64 as BigInt,
 *   like keyCodec.decode); malformed bytes throw. (sandbox-key-decoder.ts)
 * - utf8: UTF-8 to a string (malformed sequences become U+FFFD, as TextDecoder does). (sandbox-utf8.ts)
 */

/** The parts the helpers are made of: in a sandbox, each one's injected source text. */
export interface SandboxHelperParts {
  utf8: typeof sandboxUtf8;
  msgpack: typeof sandboxMsgpack;
  keys: typeof sandboxKeyDecoder;
}

/** The parts as this module imports them, for a call on the host; a sandbox always passes its own. */
const HOST_PARTS: SandboxHelperParts = { utf8: sandboxUtf8, msgpack: sandboxMsgpack, keys: sandboxKeyDecoder };

export function sandboxHelpers(keyType: unknown, parts: SandboxHelperParts = HOST_PARTS): {
  decodeMsgpack(bytes: Uint8Array): unknown;
  msgpackGet(bytes: Uint8Array, path: unknown): unknown;
  decodeKey(bytes: Uint8Array): unknown;
  utf8(bytes: Uint8Array): string;
  encodeUtf8(text: string): Uint8Array;
} {
  const { utf8Range, encodeUtf8 } = parts.utf8();
  const { decodeMsgpack, msgpackGet } = parts.msgpack(utf8Range);
  const decodeKey = parts.keys(keyType, utf8Range);
  return { decodeMsgpack, msgpackGet, decodeKey, utf8: (bytes) => utf8Range(bytes, 0, bytes.length, false), encodeUtf8 };
}

/**
 * Source text of an expression for a sandbox context: a function of the key type that makes the
 * helpers, with `sandboxHelpers` and every part injected as text (no part may name anything
 * outside itself).
 */
export function sandboxHelpersSource(): string {
  const parts = `{ utf8: ${sandboxUtf8.toString()}, msgpack: ${sandboxMsgpack.toString()}, keys: ${sandboxKeyDecoder.toString()} }`;
  return `(keyType) => (${sandboxHelpers.toString()})(keyType, ${parts})`;
}
