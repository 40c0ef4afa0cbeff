// The bench's bare anchor must do the work it stands for: store every record in LevelDB and
// answer exactly, one at a time, many in flight, and in frames larger than a socket read.
import test from 'ava';
import { ClassicLevel } from 'classic-level';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBareStore } from '../../../bench/suite/bare-store.js';

const key = (i: number): Buffer => Buffer.from(`bare-key-${String(i).padStart(8, '0')}`);
const value = (i: number, bytes: number): Buffer => Buffer.alloc(bytes, i % 251);

for (const transport of ['unix', 'tcp'] as const) {
  test(`${transport}: puts and batches land in LevelDB, and gets answer them exactly`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hpckv-bare-test-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const bare = await startBareStore(dir, transport);
    const { target } = bare;
    try {
      // 64 single puts in flight, then 64 gets in flight.
      await Promise.all(Array.from({ length: 64 }, (_, i) => target.put(key(i), value(i, 100 + i))));
      const got = await Promise.all(Array.from({ length: 64 }, (_, i) => target.get(key(i))));
      t.deepEqual(got.map((v) => v?.length), Array.from({ length: 64 }, (_, i) => 100 + i));
      t.true(got.every((v, i) => v!.equals(value(i, 100 + i))));
      t.is(await target.get(key(999_999)), null);
      // 1000 × 4 KiB: a 4 MiB frame each way, many socket reads.
      const keys = Array.from({ length: 1000 }, (_, i) => key(1000 + i));
      await target.putBatch(keys, keys.map((_, i) => value(1000 + i, 4096)));
      t.is(await target.getBatch(keys), 1000);
      t.is(await target.getBatch([...keys.slice(0, 10), key(5_000_000)]), 10);
      t.true((await target.get(key(1999)))!.equals(value(1999, 4096)));
    } finally {
      await bare.stop();
    }
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'bare-db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    t.teardown(() => db.close());
    let records = 0;
    for await (const [k, v] of db.iterator()) {
      const i = Number(k.toString().slice('bare-key-'.length));
      t.true(v.equals(value(i, i < 1000 ? 100 + i : 4096)), k.toString());
      records++;
    }
    t.is(records, 64 + 1000);
  });
}
