/**
 * A key range from the command line (scan, count, first, last, exec): at most one lower bound
 * (--gte, --gt) and one upper bound (--lte, --lt), keys of the store's type, or --prefix alone.
 */
import { UsageError, type Flags } from './cli-args.js';
import type { StoreKeys } from './store-keys.js';

export const RANGE_SYNOPSIS = '[--gte K | --gt K] [--lte K | --lt K] [--prefix P]';
export const RANGE_FLAGS = ['group', 'db', 'gte', 'gt', 'lte', 'lt', 'prefix'] as const;
export const PREFIX_NOTE = '--prefix (without other bounds): the keys starting with P (string and bytes stores), or extending the\n  first components of a tuple (\'["run"]\').';

/** Encoded bounds; an absent one is an open end. */
export interface EncodedBounds {
  gte?: Buffer;
  gt?: Buffer;
  lte?: Buffer;
  lt?: Buffer;
}

/** The range the flags give, encoded in the store's key type. */
export function rangeOf(flags: Flags, keys: StoreKeys): EncodedBounds {
  const bounds = (['gte', 'gt', 'lte', 'lt'] as const).filter((name) => flags[name] !== undefined);
  if (flags.prefix !== undefined) {
    if (bounds.length > 0) throw new UsageError(`--prefix goes alone, not with --${bounds[0]}`);
    return keys.prefixRange(flags.prefix);
  }
  if (bounds.includes('gte') && bounds.includes('gt')) throw new UsageError('give --gte or --gt, not both');
  if (bounds.includes('lte') && bounds.includes('lt')) throw new UsageError('give --lte or --lt, not both');
  return Object.fromEntries(bounds.map((name) => [name, keys.encode(flags[name]!, `--${name}`)]));
}
