import type { PrefixBlock, PrefixRange } from '../../core/keys/key-input.js';
import type { KeyRangeWire } from '../../core/protocol/messages.js';
import type { Partitioner } from '../../partition/partitioner.js';

/** A key range as the caller gives it: at most one lower and one upper bound, in the caller's key type. */
export interface RangeBounds<K> {
  gt?: K;
  gte?: K;
  lt?: K;
  lte?: K;
}

const BOUNDS = ['gt', 'gte', 'lt', 'lte'] as const;

/**
 * The range's bounds as stored bytes (`encode` also checks each key). Both bounds on one side is
 * a programmer mistake (TypeError), refused before any key is encoded. A bound `encode` gives as
 * a block (a tuple prefix: the keys extending it, core/keys/key-input.ts) is bounded at the
 * block's first key by `gte` and `lt`, just after its last by `gt` and `lte`.
 */
export function encodeBounds<K>(range: RangeBounds<K>, encode: (key: K) => Uint8Array | PrefixBlock): KeyRangeWire {
  if (range.gt !== undefined && range.gte !== undefined) throw new TypeError('a range takes gt or gte, not both');
  if (range.lt !== undefined && range.lte !== undefined) throw new TypeError('a range takes lt or lte, not both');
  const bounds: KeyRangeWire = {};
  for (const bound of BOUNDS) {
    const value = range[bound];
    if (value === undefined) continue;
    const encoded = encode(value);
    if (encoded instanceof Uint8Array) bounds[bound] = encoded;
    else if (bound === 'gte' || bound === 'gt') bounds.gte = bound === 'gte' ? encoded.first : encoded.end;
    else bounds.lt = bound === 'lt' ? encoded.first : encoded.end;
  }
  return bounds;
}

/** The bounds of every key starting with `prefix` (`prefixRange` encodes it); no other bound may come with it (TypeError). */
export function encodePrefix<K>(range: RangeBounds<K> & { prefix: K }, prefixRange: (prefix: K) => PrefixRange): KeyRangeWire {
  if (BOUNDS.some((bound) => range[bound] !== undefined)) throw new TypeError('a range takes a prefix or gt/gte/lt/lte bounds, not both');
  const { gte, lt } = prefixRange(range.prefix);
  return { ...(gte === undefined ? {} : { gte }), ...(lt === undefined ? {} : { lt }) };
}

/**
 * The servers holding keys of `bounds` in key order (descending when `reverse`), when the
 * partitioning keeps each server's keys contiguous (a range table); undefined when keys of the
 * range interleave across servers (hash, MDHIM slices) and every server must be asked.
 */
export function serversInOrder(partitioner: Partitioner, bounds: KeyRangeWire, reverse = false): number[] | undefined {
  const lower = bounds.gt ?? bounds.gte;
  const upper = bounds.lt ?? bounds.lte;
  const ranks = partitioner.serversInOrder?.(
    lower === undefined ? undefined : { key: lower, inclusive: bounds.gte !== undefined },
    upper === undefined ? undefined : { key: upper, inclusive: bounds.lte !== undefined });
  if (ranks === undefined) return undefined;
  return reverse ? [...ranks].reverse() : ranks;
}

/** The servers that may hold keys of `bounds`: those of its part of a range table in key order, or all of them. */
export function serversOfRange(partitioner: Partitioner, bounds: KeyRangeWire): number[] {
  return serversInOrder(partitioner, bounds) ?? Array.from({ length: partitioner.serverCount }, (_, rank) => rank);
}
