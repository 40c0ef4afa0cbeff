import { ErrorCodes, HpckvError, isHpckvError } from '../core/errors.js';
import type { KeyValue } from '../core/keys/key-type.js';
import { DEFAULT_DATABASE, type CursorReply, type StatReply } from '../core/protocol/messages.js';
import { asBuffer } from './bytes.js';
import type { ClientCore } from './core/client-core.js';
import type { RequestOptions, ServerKeyBounds, ServerStat, SliceStat } from './core/options.js';

/**
 * The Client's calls about the group rather than about keys: statistics and key bounds of every
 * server, MDHIM's per-slice statistics, and the shutdown of every server. Each asks every server
 * (no key to route), read from the stores when asked, so never stale.
 */

/** Statistics of every server, by rank. */
export async function stat(core: ClientCore, options: RequestOptions): Promise<StatReply[]> {
  const body = options.db === undefined ? {} : { db: options.db };
  return Promise.all(core.router.ranks.map((rank) => core.call(rank, 'stat', body, options)));
}

/**
 * Every server's statistics or why it did not answer, by rank: one server down (or failing)
 * leaves the others' answers intact. Only typed failures are answers; a programmer's mistake
 * (a closed client) still throws.
 */
export async function statEach(core: ClientCore, options: RequestOptions): Promise<ServerStat[]> {
  const body = options.db === undefined ? {} : { db: options.db };
  return Promise.all(core.router.ranks.map((rank) => core.call(rank, 'stat', body, options).then(
    (stat): ServerStat => ({ rank, stat }),
    (error: unknown): ServerStat => {
      if (!isHpckvError(error)) throw error;
      return { rank, error };
    },
  )));
}

/** The smallest and largest key each server holds, by rank. */
export async function keyBoundsByServer(core: ClientCore, options: RequestOptions): Promise<ServerKeyBounds[]> {
  const db = options.db ?? DEFAULT_DATABASE;
  const decode = (reply: CursorReply): KeyValue | undefined => (reply === null ? undefined : core.decodeKey(asBuffer(reply[0])));
  return Promise.all(core.router.ranks.map(async (rank) => {
    const [min, max] = await Promise.all([core.call(rank, 'first', { db }, options), core.call(rank, 'last', { db }, options)]);
    return { rank, min: decode(min), max: decode(max) };
  }));
}

/** Every non-empty MDHIM slice's owner, record count and key bounds, in slice order (Client.sliceStats). */
export async function sliceStats(core: ClientCore, options: RequestOptions & { slicesMax?: number }): Promise<SliceStat[]> {
  const slices = core.router.slices();
  if (slices === undefined) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `sliceStats needs an MDHIM slices group; this group is partitioned by ${core.router.scheme}`);
  }
  const slicesMax = options.slicesMax ?? 10_000;
  if (!Number.isSafeInteger(slicesMax) || slicesMax < 1) throw new RangeError('sliceStats: slicesMax must be an integer >= 1');
  const db = options.db ?? DEFAULT_DATABASE;
  const perServer = await Promise.all(core.router.ranks.map(async (rank) => {
    const out: SliceStat[] = [];
    let entry = await core.call(rank, 'first', { db }, options);
    while (entry !== null && out.length < slicesMax) {
      const slice = slices.sliceOf(entry[0]);
      const range = slices.sliceRange(slice);
      if (range === undefined) throw new HpckvError(ErrorCodes.INTERNAL, `slice ${slice} of a stored key has no key range`);
      const [last, records] = await Promise.all([
        range.hi === undefined ? core.call(rank, 'last', { db }, options) : core.call(rank, 'prev', { db, key: range.hi }, options),
        core.call(rank, 'count', { db, gte: range.lo, ...(range.hi === undefined ? {} : { lt: range.hi }) }, options),
      ]);
      if (last === null) throw new HpckvError(ErrorCodes.INTERNAL, `slice ${slice} lost its keys while being read`);
      out.push({ slice, rank, records, min: core.decodeKey(asBuffer(entry[0])), max: core.decodeKey(asBuffer(last[0])) });
      entry = range.hi === undefined ? null : await core.call(rank, 'next', { db, key: last[0] }, options);
    }
    return out;
  }));
  return perServer.flat().sort((a, b) => (a.slice < b.slice ? -1 : a.slice > b.slice ? 1 : 0));
}

/** Asks every server to drain and exit. */
export async function shutdownServers(core: ClientCore, options: RequestOptions): Promise<void> {
  await Promise.all(core.router.ranks.map((rank) => core.call(rank, 'shutdown', {}, options)));
}
