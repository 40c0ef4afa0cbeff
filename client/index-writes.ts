/**
 * Indexed writes: a record written (or deleted) with its entries in one or more indexes of its
 * primary database, in the order that keeps lookups right without atomicity across stores (see
 * client/secondary-index.ts): the new global entries first, then the record and every
 * back-reference in one request to the record's server, then the previous write's global entries
 * removed. Apart from the lookups, which only read what these writes leave.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { entryKey, WRITE_ID_BYTES } from '../core/index-entry-key.js';
import type { KeyValue } from '../core/keys/key-type.js';
import { BatchOpCode, type BatchEntry } from '../core/protocol/messages.js';
import { limitExceeded } from '../core/protocol/field-checks.js';
import { asBuffer } from '../core/wire/as-buffer.js';
import { allParts } from './core/fan-out.js';
import type { RequestOptions, WriteOptions } from './core/options.js';
import type { IndexLayout } from './index-layout.js';
import type { IndexHost } from './index-types.js';

/** A record's secondary keys under one index. */
export interface LayoutKeys {
  layout: IndexLayout;
  secondaryKeys: readonly KeyValue[];
}

/** A part of an indexed write as the caller gives it: an index (anything, until checked) and the record's secondary keys under it. */
interface GivenPart {
  readonly index: unknown;
  readonly secondaryKeys: readonly KeyValue[];
}

const EMPTY = Buffer.alloc(0);

/**
 * Checks the parts of one indexed write and returns their primary database and layouts:
 * `layoutOf` gives a part's index layout, undefined for what is not an index (TypeError). More
 * than indexesPerWriteMax is HPCKV_ERR_BATCH_TOO_LARGE; the same index twice, or indexes of other
 * primary databases, HPCKV_ERR_BAD_REQUEST.
 */
export function checkIndexedWrite(host: IndexHost, parts: readonly GivenPart[], layoutOf: (index: unknown) => IndexLayout | undefined,
  options: WriteOptions): { primaryDb: string; parts: LayoutKeys[] } {
  const max = host.limits.indexesPerWriteMax;
  if (parts.length > max) throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'indexesPerWriteMax', 'the indexes of an indexed write', parts.length, max, 'entries');
  const names = new Set<string>();
  const checked: LayoutKeys[] = [];
  for (const part of parts) {
    const layout = layoutOf(part?.index);
    if (layout === undefined) throw new TypeError('every part of an indexed write needs { index: SecondaryIndex, secondaryKeys }');
    if (layout.host.group !== host.group) throw new TypeError('the indexes of one indexed write must be opened by one client');
    const id = `${layout.definition.indexDb}\u0000${layout.name}`;
    if (names.has(id)) throw new HpckvError(ErrorCodes.BAD_REQUEST, `an indexed write names index "${layout.name}" twice`, { details: { index: layout.name } });
    names.add(id);
    checked.push({ layout, secondaryKeys: part.secondaryKeys });
  }
  const primaryDbs = [...new Set(checked.map((part) => part.layout.definition.primaryDb))];
  if (primaryDbs.length > 1) {
    throw new HpckvError(ErrorCodes.BAD_REQUEST,
      `an indexed write spans indexes of different primary databases (${primaryDbs.join(', ')}): a record is in one database`,
      { details: { indexes: checked.map((part) => part.layout.name).join(','), primaryDbs: primaryDbs.join(',') } });
  }
  checked[0]!.layout.checkDb(options);
  return { primaryDb: primaryDbs[0]!, parts: checked };
}

/**
 * Writes the record `pk` = `value` (deletes it, for null) in `primaryDb` with its entries under
 * the checked `parts`, all with one new write id. `ifStored` (build): only while the stored value
 * is `value`, which is not written again; resolves false when such a write changed nothing.
 */
export async function writeIndexedRecord(host: IndexHost, primaryDb: string, pk: Uint8Array, value: Uint8Array | null,
  parts: readonly LayoutKeys[], options: WriteOptions, ifStored: boolean): Promise<boolean> {
  const writeId = randomBytes(WRITE_ID_BYTES);
  const sync = options.sync === undefined ? {} : { sync: options.sync };
  const prepared = parts.map(({ layout, secondaryKeys }) => ({ layout, encoded: layout.encodeAll(pk, writeId, value === null ? [] : secondaryKeys) }));
  // Global: the new entries go first; they are not live until the back-reference names writeId.
  const fresh = prepared.flatMap(({ layout, encoded }) => globalOps((s) => [BatchOpCode.put, entryKey(layout.namespace, s, pk, writeId), EMPTY], layout, encoded));
  await sendEntryOps(host, fresh, sync, options);
  const reply = await host.call(host.router.serverFor(pk), 'indexWrite', {
    db: primaryDb, key: pk, value, writeId, ...sync, ...(ifStored ? { ifStored: true } : {}),
    indexes: prepared.map(({ layout, encoded }) => ({
      indexDb: layout.definition.indexDb, index: layout.namespace, local: layout.definition.kind === 'local', secondaryKeys: encoded,
    })),
  }, options);
  if (!reply.applied) {
    // The record changed since it was read: the new entries will never be live; remove them.
    await sendEntryOps(host, fresh.map((e): EntryOp => ({ ...e, op: [BatchOpCode.del, e.op[1]] })), sync, options);
    return false;
  }
  // The previous writes' entries are dead now (their write ids are no longer current): remove them.
  const old = prepared.flatMap(({ layout }, i) => {
    const previous = reply.previous[i];
    if (previous === null || previous === undefined) return [];
    return globalOps((s) => [BatchOpCode.del, entryKey(layout.namespace, s, pk, previous.writeId)], layout, previous.secondaryKeys.map(asBuffer));
  });
  await sendEntryOps(host, old, sync, options);
  return true;
}

/** One batch op on a global index's entries: its database, server and the op. */
interface EntryOp { indexDb: string; rank: number; op: BatchEntry }

/** `op` of each of `keys` on the index server of the key; none for a local index (its server writes its entries). */
function globalOps(op: (s: Buffer) => BatchEntry, layout: IndexLayout, keys: readonly Buffer[]): EntryOp[] {
  return layout.definition.kind !== 'global' ? [] : keys.map((s) => ({ indexDb: layout.definition.indexDb, rank: layout.router!.serverFor(s), op: op(s) }));
}

/** The ops as one `batch` per (index database, server), all sent at once; the first failure is thrown once all settled. */
async function sendEntryOps(host: IndexHost, ops: readonly EntryOp[], sync: { sync?: boolean }, options: RequestOptions): Promise<void> {
  const batches = new Map<string, { indexDb: string; rank: number; ops: BatchEntry[] }>();
  for (const { indexDb, rank, op } of ops) {
    const id = `${rank}\u0000${indexDb}`;
    const batch = batches.get(id) ?? { indexDb, rank, ops: [] };
    batch.ops.push(op);
    batches.set(id, batch);
  }
  await allParts([...batches.values()].map((b) => host.call(b.rank, 'batch', { db: b.indexDb, ops: b.ops, ...sync }, options)));
}
