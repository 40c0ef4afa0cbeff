import test from 'ava';
import type { PartitionSpec } from '../../../core/group-file.js';
import { HashRing } from '../../../partition/hash-ring.js';
import { createPartitioner, groupByServer, type Partitioner } from '../../../partition/partitioner.js';
import { randomKeys, seededRandom } from './random.js';

test('a hash spec gives the hash ring it describes', (t) => {
  const partitioner = createPartitioner({ scheme: 'hash', virtualNodes: 32, seed: 4 }, 6);
  t.is(partitioner.scheme, 'hash');
  t.is(partitioner.serverCount, 6);
  const ring = new HashRing(6, 32, 4);
  for (const key of randomKeys(2, 1_000)) t.is(partitioner.serverFor(key), ring.locate(key));
});

test('createPartitioner rejects an unknown scheme and a bad server count', (t) => {
  const unknown = { scheme: 'nope', virtualNodes: 1, seed: 0 } as unknown as PartitionSpec;
  t.throws(() => createPartitioner(unknown, 4), { instanceOf: TypeError, message: /nope/ });
  t.throws(() => createPartitioner({ scheme: 'hash', virtualNodes: 64, seed: 0 }, 0), { instanceOf: RangeError });
});

test('groupByServer lists each key once, under its owner, in the caller\'s order', (t) => {
  const partitioner = createPartitioner({ scheme: 'hash', virtualNodes: 64, seed: 0 }, 5);
  const random = seededRandom(3);
  // Repeated keys must appear once per occurrence, like a batch that names a key twice.
  const distinct = randomKeys(4, 300);
  const keys = Array.from({ length: 1_000 }, () => distinct[random.below(distinct.length)]!);
  const byServer = groupByServer(partitioner, keys);

  t.is(byServer.length, 5);
  const seen = new Array<number>(keys.length).fill(0);
  for (const [server, indices] of byServer.entries()) {
    for (let j = 0; j < indices.length; j++) {
      const index = indices[j]!;
      t.is(partitioner.serverFor(keys[index]!), server);
      if (j > 0) t.true(indices[j - 1]! < index, 'indices ascend');
      seen[index]!++;
    }
  }
  t.true(seen.every((n) => n === 1), 'every index appears exactly once');

  // What the client does: send per-server parts, then write each part's results back.
  const results = new Array<Uint8Array | undefined>(keys.length);
  for (const indices of byServer) {
    const part = indices.map((index) => keys[index]!);
    part.forEach((key, j) => { results[indices[j]!] = key; });
  }
  t.deepEqual(results, keys);
});

test('groupByServer gives empty lists to servers that own nothing and handles an empty batch', (t) => {
  const partitioner = createPartitioner({ scheme: 'hash', virtualNodes: 8, seed: 0 }, 3);
  t.deepEqual(groupByServer(partitioner, []), [[], [], []]);
  const key = randomKeys(5, 1)[0]!;
  const grouped = groupByServer(partitioner, [key, key]);
  const owner = partitioner.serverFor(key);
  t.deepEqual(grouped, [0, 1, 2].map((server) => (server === owner ? [0, 1] : [])));
});

test('groupByServer refuses a partitioner that answers outside its servers', (t) => {
  const broken: Partitioner = { scheme: 'broken', serverCount: 2, serverFor: () => 2 };
  t.throws(() => groupByServer(broken, [new Uint8Array(1)]), { instanceOf: RangeError });
});
