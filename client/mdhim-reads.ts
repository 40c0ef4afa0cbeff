/**
 * The MDHIM facade's reads: one record by cursor step (mdhimGet), a cursor step for each of many
 * keys (mdhimBGet) and a run of consecutive records (mdhimBGetOp). Apart from the writes and the
 * collective calls in `client/mdhim.ts`, which re-exports these.
 */
import type { KeyValue } from '../core/keys/key-type.js';
import type { Client } from './client.js';
import {
  MDHIM_DB_ERROR, MDHIM_ERROR, MDHIM_GET_EQ, MDHIM_GET_FIRST, MDHIM_GET_LAST, MDHIM_GET_NEXT, MDHIM_GET_PREV, MDHIM_SUCCESS,
} from './mdhim-codes.js';
import { guarded, keyOf, type MdhimBGetRm, type MdhimContext, type MdhimKey } from './mdhim-context.js';

const readFailed = (): MdhimBGetRm => ({ error: MDHIM_ERROR, keys: [], values: [], numKeys: 0 });

function records(found: Array<[KeyValue, Buffer]>): MdhimBGetRm {
  return {
    error: found.length === 0 ? MDHIM_DB_ERROR : MDHIM_SUCCESS,
    keys: found.map(([key]) => key), values: found.map(([, value]) => value), numKeys: found.length,
  };
}

/** One cursor step of `op` from `key` (ignored by FIRST and LAST). */
async function getOne(md: MdhimContext, client: Client, key: MdhimKey | undefined, op: number): Promise<Array<[KeyValue, Buffer]>> {
  switch (op) {
    case MDHIM_GET_EQ: {
      if (key === undefined) throw new TypeError('MDHIM_GET_EQ needs a key');
      const k = keyOf(md, key);
      const value = await client.get(k);
      // The key as the store types it (e.g. a long passed as a number comes back a bigint).
      return value === undefined ? [] : [[client.decodeKey(client.encodeKey(k)), value]];
    }
    case MDHIM_GET_NEXT:
    case MDHIM_GET_PREV: {
      if (key === undefined) throw new TypeError('MDHIM_GET_NEXT and MDHIM_GET_PREV need a key');
      const found = op === MDHIM_GET_NEXT ? await client.next(keyOf(md, key)) : await client.prev(keyOf(md, key));
      return found === undefined ? [] : [found];
    }
    case MDHIM_GET_FIRST:
    case MDHIM_GET_LAST: {
      const found = op === MDHIM_GET_FIRST ? await client.first() : await client.last();
      return found === undefined ? [] : [found];
    }
    default:
      throw new TypeError(`unknown MDHIM get operation ${String(op)}`);
  }
}

/**
 * mdhimGet: EQ gives the key's record; NEXT/PREV the record just after/before the key (stored
 * or not); FIRST/LAST the smallest/largest record. Nothing found is error MDHIM_DB_ERROR.
 */
export function mdhimGet(md: MdhimContext, key: MdhimKey | undefined, op: number): Promise<MdhimBGetRm> {
  return guarded(md, readFailed(), async (client) => records(await getOne(md, client, key, op)));
}

/**
 * mdhimBGet: `op` applied to each key. EQ reads all keys with one message per range server and
 * returns the records found in the caller's order (missing keys are left out, as in MDHIM);
 * NEXT/PREV give each key's neighbour.
 */
export function mdhimBGet(md: MdhimContext, keys: readonly MdhimKey[], op: number): Promise<MdhimBGetRm> {
  return guarded(md, readFailed(), async (client) => {
    if (!Array.isArray(keys)) throw new TypeError('mdhimBGet: keys must be an array');
    if (op !== MDHIM_GET_EQ) {
      const found = await Promise.all(keys.map((key) => getOne(md, client, key, op)));
      return records(found.flat());
    }
    const typed = keys.map((key) => keyOf(md, key));
    const values = await client.getMany(typed);
    const found: Array<[KeyValue, Buffer]> = [];
    values.forEach((value, i) => { if (value !== undefined) found.push([client.decodeKey(client.encodeKey(typed[i]!)), value]); });
    return records(found);
  });
}

/**
 * mdhimBGetOp: up to `numRecords` consecutive records: NEXT after `key`, PREV before it
 * (descending), EQ from `key` itself onwards, FIRST from the smallest key, LAST from the largest
 * (descending). Unlike MDHIM, which stops at the end of one range server, the records continue
 * onto the following servers in global key order.
 */
export function mdhimBGetOp(md: MdhimContext, key: MdhimKey | undefined, numRecords: number, op: number): Promise<MdhimBGetRm> {
  return guarded(md, readFailed(), async (client) => {
    if (!Number.isSafeInteger(numRecords) || numRecords < 1) throw new RangeError(`mdhimBGetOp: numRecords must be an integer >= 1, got ${String(numRecords)}`);
    switch (op) {
      case MDHIM_GET_NEXT:
      case MDHIM_GET_PREV:
        if (key === undefined) throw new TypeError('MDHIM_GET_NEXT and MDHIM_GET_PREV need a key');
        return records(await client.getRange(keyOf(md, key), numRecords, op === MDHIM_GET_NEXT ? 'next' : 'prev'));
      case MDHIM_GET_FIRST:
      case MDHIM_GET_LAST:
        return records(await client.getRange(undefined, numRecords, op === MDHIM_GET_FIRST ? 'next' : 'prev'));
      case MDHIM_GET_EQ: {
        if (key === undefined) throw new TypeError('MDHIM_GET_EQ needs a key');
        const found = await client.iterate({ gte: keyOf(md, key), limit: numRecords, firstPageEntries: numRecords }).all();
        return records(found as Array<[KeyValue, Buffer]>);
      }
      default:
        throw new TypeError(`unknown MDHIM get operation ${String(op)}`);
    }
  });
}
