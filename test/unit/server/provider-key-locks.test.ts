import test from 'ava';
import { KeyLocks, lockId } from '../../../server/key-locks.js';

test('free keys are granted at once, without a promise', (t) => {
  const locks = new KeyLocks();
  const lease = locks.acquire(['a', 'b']);
  t.is(lease.ready, null);
  t.false(lease.repeatsKeys);
  t.is(locks.size, 2);
  lease.release();
  t.is(locks.size, 0);
});

test('a held key makes the next lease wait until release, in arrival order', async (t) => {
  const locks = new KeyLocks();
  const order: string[] = [];
  const first = locks.acquire(['k']);
  const second = locks.acquire(['k', 'x']);
  const third = locks.acquire(['x']);
  t.not(second.ready, null);
  t.not(third.ready, null);
  const done = Promise.all([
    second.ready!.then(() => { order.push('second'); second.release(); }),
    third.ready!.then(() => { order.push('third'); third.release(); }),
  ]);
  order.push('first');
  first.release();
  await done;
  t.deepEqual(order, ['first', 'second', 'third']);
  t.is(locks.size, 0);
});

test('a lease naming a key twice is flagged and does not wait for itself', (t) => {
  const locks = new KeyLocks();
  const lease = locks.acquire(['k', 'j', 'k']);
  t.is(lease.ready, null);
  t.true(lease.repeatsKeys);
  lease.release();
  lease.release();
  t.is(locks.size, 0);
});

test('a lease waits for every earlier holder of any of its keys', async (t) => {
  const locks = new KeyLocks();
  const a = locks.acquire(['a']);
  const b = locks.acquire(['b']);
  const both = locks.acquire(['b', 'a']);
  let granted = false;
  const waiting = both.ready!.then(() => { granted = true; });
  a.release();
  await Promise.resolve();
  t.false(granted);
  b.release();
  await waiting;
  t.true(granted);
  both.release();
  t.is(locks.size, 0);
});

test('lock ids map distinct byte strings to distinct strings', (t) => {
  const ids = [[0], [0, 0], [255], [0xc3, 0xa9], [0xe9], [1, 2, 3]].map((bytes) => lockId(Buffer.from(bytes)));
  t.is(new Set(ids).size, ids.length);
});
