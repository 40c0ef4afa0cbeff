import { PackedListChunks, packList } from '../core/wire/packed-list.js';
import { allParts } from './core/fan-out.js';
import type { OpName, OpReply, OpRequest } from '../core/protocol/messages.js';

type Call = <O extends OpName>(op: O, body: OpRequest<O>) => Promise<OpReply<O>>;

/** Staging ids of one client (unique on each of its connections); wraps long before 2^53. */
let nextStaging = 0;

/**
 * Sends one server's part of a putMany: as one message when its keys and values come to at most
 * `partBytesMax` (or `partBytesMax` is 0), else as consecutive parts of about that size, all sent
 * at once; the server stages each as it arrives and commits them with the last
 * (server/staged-puts.ts), so it validates and stages while the rest is still in transit. The
 * write is atomic either way. Fails with the first part's failure in part order.
 */
export async function sendPutMany(call: Call, db: string, keys: readonly Uint8Array[], values: readonly Uint8Array[],
  sync: boolean | undefined, partBytesMax: number): Promise<void> {
  const syncField = sync === undefined ? {} : { sync };
  const bounds = partBounds(keys, values, partBytesMax);
  if (bounds.length === 1) {
    await call('putMany', { db, packedKeys: packList(keys), packedValues: new PackedListChunks(values), ...syncField });
    return;
  }
  const staging = nextStaging;
  nextStaging = nextStaging >= 0x7fff_ffff ? 0 : nextStaging + 1;
  const sent = bounds.map(([from, to], part) => call('putManyPart', {
    db, staging, part, last: part === bounds.length - 1,
    packedKeys: packList(keys.slice(from, to)), packedValues: new PackedListChunks(values.slice(from, to)), ...syncField,
  }));
  await allParts(sent);
}

/** [from, to) index ranges of about partBytesMax bytes each (every part has at least one entry). */
function partBounds(keys: readonly Uint8Array[], values: readonly Uint8Array[], partBytesMax: number): Array<[number, number]> {
  if (partBytesMax === 0) return [[0, keys.length]];
  const bounds: Array<[number, number]> = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < keys.length; i++) {
    const entryBytes = keys[i]!.length + values[i]!.length;
    if (i > from && bytes + entryBytes > partBytesMax) {
      bounds.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += entryBytes;
  }
  bounds.push([from, keys.length]);
  return bounds;
}
