import type { RangeOptions } from './core/options.js';
import { asBuffer } from '../core/wire/as-buffer.js';

/** The formats HpcLevel's private API takes and gives (abstract-level transcodes every other encoding to one of them). */
export type LevelFormat = 'buffer' | 'view' | 'utf8';

/** Bytes, a view or a string, as abstract-level hands keys and values to the private API. */
export type LevelData = Buffer | Uint8Array | string;

/** Bounds as abstract-level hands them to `_iterator` and `_clear` (already encoded). */
export interface LevelRange {
  gt?: LevelData;
  gte?: LevelData;
  lt?: LevelData;
  lte?: LevelData;
}

/** Input of the private API as bytes (a string as UTF-8). */
export function dataBytes(data: LevelData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return asBuffer(data);
}

/** Bytes read from hpckv in the format the private API must give back. */
export function fromBytes(bytes: Buffer, format: string): LevelData {
  if (format === 'utf8') return bytes.toString('utf8');
  // A plain view (not a Buffer) for 'view', sharing the bytes.
  if (format === 'view') return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes;
}

/**
 * The key space of one HpcLevel inside an hpckv database: every key is stored as `prefix + key`.
 * The prefix is at least one byte, which also makes abstract-level's empty keys storable
 * (hpckv refuses empty keys), and no key of the level reaches outside it.
 */
export class KeySpace {
  readonly prefix: Buffer;
  /** The smallest key greater than every key that starts with the prefix; undefined when there is none (prefix all 0xff). */
  private readonly end: Buffer | undefined;

  constructor(prefix: Uint8Array | string) {
    const bytes = Buffer.from(dataBytes(prefix));
    if (bytes.length === 0) throw new TypeError('HpcLevel: prefix must be at least one byte (hpckv keys are never empty)');
    this.prefix = bytes;
    this.end = prefixEnd(bytes);
  }

  /** A level key as stored. */
  key(key: LevelData): Buffer {
    return Buffer.concat([this.prefix, dataBytes(key)]);
  }

  /** A stored key back as the level's key (the prefix stripped; no copy). */
  strip(stored: Buffer): Buffer {
    return stored.subarray(this.prefix.length);
  }

  /**
   * A level range as an hpckv range of stored keys: the level's bounds prefixed, and the
   * prefix's own bounds where the level gave none, so a scan or delete never leaves the prefix.
   */
  range(range: LevelRange): RangeOptions {
    const out: RangeOptions = {};
    // As abstract-level defines it: gte wins over gt, lte over lt, when both are given.
    if (range.gte !== undefined) out.gte = this.key(range.gte);
    else if (range.gt !== undefined) out.gt = this.key(range.gt);
    else out.gte = this.prefix;
    if (range.lte !== undefined) out.lte = this.key(range.lte);
    else if (range.lt !== undefined) out.lt = this.key(range.lt);
    else if (this.end !== undefined) out.lt = this.end;
    return out;
  }
}

/** The smallest byte string greater than every string that starts with `prefix`, if any. */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  let last = prefix.length - 1;
  while (last >= 0 && prefix[last] === 0xff) last--;
  if (last < 0) return undefined;
  const end = Buffer.from(prefix.subarray(0, last + 1));
  end[last]! += 1;
  return end;
}
