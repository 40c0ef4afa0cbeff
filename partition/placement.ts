import { keyInputEncoder } from '../core/keys/key-input.js';
import type { KeyValue } from '../core/keys/key-type.js';
import { checkPartitionSpec, type PartitionSpec } from '../core/partition-spec.js';
import { createPartitioner } from './partitioner.js';

/**
 * "Which server would hold this key", asked without servers: from a partition spec (a group
 * file's `partition`, or one about to be launched), the server count and the store's key type,
 * with the key encoded exactly as the client encodes it (core/keys/key-input.ts), so the answer
 * is the rank a Client of that group routes the key to.
 */

/**
 * A function from keys to the rank of the server that owns them, for a group of `serverCount`
 * servers partitioned by `spec` holding keys of `keyType` (text form, default `bytes`). Build it
 * once to place many keys: building a hash ring costs far more than one lookup. A bad spec is
 * HPCKV_ERR_BAD_CONFIG; a key not of the key type HPCKV_ERR_BAD_KEY.
 */
export function placementOf(spec: PartitionSpec, serverCount: number, keyType = 'bytes'): (key: KeyValue) => number {
  const partitioner = createPartitioner(checkPartitionSpec(spec, serverCount, keyType), serverCount);
  const keys = keyInputEncoder(keyType);
  return (key) => partitioner.serverFor(keys.key(key));
}

/** The rank of the server that owns `key` (see placementOf; for many keys build the placement once). */
export function serverFor(spec: PartitionSpec, serverCount: number, key: KeyValue, keyType = 'bytes'): number {
  return placementOf(spec, serverCount, keyType)(key);
}
