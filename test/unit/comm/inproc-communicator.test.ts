import test, { type ExecutionContext } from 'ava';
import { ANY_SOURCE, ANY_TAG, TAG_MAX, type Communicator } from '../../../core/comm/communicator.js';
import { createInprocWorld } from '../../../core/comm/inproc-endpoint.js';
import { ErrorCodes, HpckvError, type ErrorCode } from '../../../core/errors.js';

const SIZE = 5;

function world(t: ExecutionContext): Communicator[] {
  const comms = createInprocWorld(SIZE);
  t.teardown(async () => { await Promise.all(comms.map((comm) => comm.close())); });
  return comms;
}

/** Lets queued deliveries run (they are scheduled with setImmediate). */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function rejectsWith(t: ExecutionContext, promise: Promise<unknown>, code: ErrorCode): Promise<HpckvError> {
  const error = await t.throwsAsync(promise, { instanceOf: HpckvError });
  t.is(error?.code, code);
  return error!;
}

test('every rank knows its rank and the world size', (t) => {
  const comms = world(t);
  t.deepEqual(comms.map((c) => [c.rank, c.size]), [[0, 5], [1, 5], [2, 5], [3, 5], [4, 5]]);
});

test('a tagged message arrives with its source, tag and typed data (bytes, bigint)', async (t) => {
  const comms = world(t);
  const sent = { text: 'hi', bytes: Uint8Array.of(1, 2, 3), big: 2n ** 63n - 1n, list: [1, null, 'x'] };
  await comms[0]!.send(3, 11, sent);
  sent.text = 'changed after send';
  const got = await comms[3]!.recv<typeof sent>(0, 11);
  t.is(got.source, 0);
  t.is(got.tag, 11);
  t.is(got.data.text, 'hi');
  t.true(got.data.bytes instanceof Uint8Array);
  t.deepEqual([...got.data.bytes], [1, 2, 3]);
  t.is(got.data.big, 2n ** 63n - 1n);
  t.deepEqual(got.data.list, [1, null, 'x']);
});

test('recv selects by tag and leaves other tags queued', async (t) => {
  const comms = world(t);
  await comms[0]!.send(1, 1, 'a');
  await comms[0]!.send(1, 2, 'b');
  t.is((await comms[1]!.recv(0, 2)).data, 'b');
  t.is((await comms[1]!.recv(0, 1)).data, 'a');
});

test('ANY_SOURCE and ANY_TAG take messages from every sender', async (t) => {
  const comms = world(t);
  await Promise.all([1, 2, 3, 4].map((r) => comms[r]!.send(0, r * 10, `from ${r}`)));
  const got = [];
  for (let i = 0; i < 4; i++) got.push(await comms[0]!.recv(ANY_SOURCE, ANY_TAG));
  got.sort((a, b) => a.source - b.source);
  t.deepEqual(got, [1, 2, 3, 4].map((r) => ({ source: r, tag: r * 10, data: `from ${r}` })));
});

test('messages of one (source, tag) are received in send order, whatever the interleaving', async (t) => {
  const comms = world(t);
  for (let i = 0; i < 50; i++) {
    await comms[1]!.send(2, 5, i);
    await comms[1]!.send(2, 6, 500 + i);
    await comms[3]!.send(2, 5, 1000 + i);
  }
  const fromOne5 = [];
  const fromOne6 = [];
  const fromThree = [];
  for (let i = 0; i < 50; i++) fromOne5.push((await comms[2]!.recv(1, 5)).data);
  for (let i = 0; i < 50; i++) fromThree.push((await comms[2]!.recv(3, ANY_TAG)).data);
  for (let i = 0; i < 50; i++) fromOne6.push((await comms[2]!.recv(ANY_SOURCE, 6)).data);
  t.deepEqual(fromOne5, Array.from({ length: 50 }, (_, i) => i));
  t.deepEqual(fromOne6, Array.from({ length: 50 }, (_, i) => 500 + i));
  t.deepEqual(fromThree, Array.from({ length: 50 }, (_, i) => 1000 + i));
});

test('receives posted before the sends match the right messages, in post order', async (t) => {
  const comms = world(t);
  const r4 = comms[4]!;
  const fromOne = r4.recv(1, 8);
  const fromTwo = r4.recv(2, 8);
  const firstAny = r4.recv(ANY_SOURCE, 9);
  const secondAny = r4.recv(ANY_SOURCE, 9);
  await comms[2]!.send(4, 8, 'two');
  await comms[3]!.send(4, 9, 'first nine');
  await comms[1]!.send(4, 8, 'one');
  await comms[0]!.send(4, 9, 'second nine');
  t.deepEqual(await fromOne, { source: 1, tag: 8, data: 'one' });
  t.deepEqual(await fromTwo, { source: 2, tag: 8, data: 'two' });
  t.deepEqual(await firstAny, { source: 3, tag: 9, data: 'first nine' });
  t.deepEqual(await secondAny, { source: 0, tag: 9, data: 'second nine' });
});

test('a rank may send to itself', async (t) => {
  const comms = world(t);
  await comms[2]!.send(2, 0, 'me');
  t.deepEqual(await comms[2]!.recv(2, 0), { source: 2, tag: 0, data: 'me' });
});

test('barrier holds every rank until the last one enters', async (t) => {
  const comms = world(t);
  const left: number[] = [];
  const early = comms.slice(0, 4).map((c) => c.barrier().then(() => { left.push(c.rank); }));
  for (let i = 0; i < 20; i++) await turn();
  t.deepEqual(left, [], 'nobody leaves before rank 4 enters');
  await Promise.all([...early, comms[4]!.barrier()]);
  t.deepEqual(left.sort(), [0, 1, 2, 3]);
});

test('bcast from a non-zero root gives every rank the root\'s value', async (t) => {
  const comms = world(t);
  const value = { msg: 'from three', bytes: Uint8Array.of(7), n: 3n };
  const got = await Promise.all(comms.map((c) => c.bcast(3, c.rank === 3 ? value : undefined)));
  for (const v of got) {
    t.is(v.msg, 'from three');
    t.deepEqual([...v.bytes], [7]);
    t.is(v.n, 3n);
  }
});

test('allgather gives every rank every rank\'s value, by rank', async (t) => {
  const comms = world(t);
  const got = await Promise.all(comms.map((c) => c.allgather({ rank: c.rank, square: c.rank * c.rank })));
  const expected = [0, 1, 2, 3, 4].map((r) => ({ rank: r, square: r * r }));
  for (const list of got) t.deepEqual(list, expected);
});

test('collectives started back to back without waiting do not mix', async (t) => {
  const comms = world(t);
  const got = await Promise.all(comms.map((c) => Promise.all([
    c.bcast(1, c.rank === 1 ? 'first' : undefined),
    c.allgather(c.rank + 100),
    c.bcast(4, c.rank === 4 ? 'second' : undefined),
    c.barrier(),
  ])));
  for (const [first, all, second] of got) {
    t.is(first, 'first');
    t.deepEqual(all, [100, 101, 102, 103, 104]);
    t.is(second, 'second');
  }
});

test('collective traffic never matches a pending ANY_SOURCE/ANY_TAG user recv', async (t) => {
  const comms = world(t);
  const pending = comms[0]!.recv(ANY_SOURCE, ANY_TAG);
  await Promise.all(comms.map(async (c) => {
    await c.barrier();
    await c.bcast(0, c.rank === 0 ? 'x' : undefined);
    await c.allgather(c.rank);
  }));
  await comms[2]!.send(0, 3, 'user');
  t.deepEqual(await pending, { source: 2, tag: 3, data: 'user' });
});

test('split(rank % 2, -rank) orders members by key and gives working collectives', async (t) => {
  const comms = world(t);
  const children = await Promise.all(comms.map((c) => c.split(c.rank % 2, -c.rank)));
  t.teardown(async () => { await Promise.all(children.map((c) => c.close())); });
  // Evens by key -rank: world 4, 2, 0; odds: world 3, 1.
  t.deepEqual(children.map((c) => [c.rank, c.size]), [[2, 3], [1, 2], [1, 3], [0, 2], [0, 3]]);
  const gathered = await Promise.all(children.map((c, world) => c.allgather(world)));
  t.deepEqual(gathered, [[4, 2, 0], [3, 1], [4, 2, 0], [3, 1], [4, 2, 0]]);
  const bcasts = await Promise.all(children.map((c, world) => c.bcast(1, c.rank === 1 ? `world ${world}` : undefined)));
  t.deepEqual(bcasts, ['world 2', 'world 1', 'world 2', 'world 1', 'world 2']);
  await Promise.all(children.map((c) => c.barrier()));
  const grandchildren = await Promise.all(children.map((c) => c.split(0, 0)));
  t.deepEqual(await Promise.all(grandchildren.map((g, world) => g.allgather(world))),
    [[4, 2, 0], [3, 1], [4, 2, 0], [3, 1], [4, 2, 0]]);
});

test('parent and child messages with the same tag are not confused', async (t) => {
  const comms = world(t);
  const children = await Promise.all(comms.map((c) => c.split(c.rank % 2, -c.rank)));
  // World 4 is rank 0 of the even child, world 2 is its rank 1.
  await children[4]!.send(1, 7, 'child');
  await comms[4]!.send(2, 7, 'parent');
  t.deepEqual(await comms[2]!.recv(ANY_SOURCE, ANY_TAG), { source: 4, tag: 7, data: 'parent' });
  t.deepEqual(await children[2]!.recv(ANY_SOURCE, ANY_TAG), { source: 0, tag: 7, data: 'child' });
  // Collectives on both at once.
  const both = await Promise.all(comms.map((c, world) => Promise.all([c.allgather(world), children[world]!.allgather(world * 10)])));
  t.deepEqual(both[0], [[0, 1, 2, 3, 4], [40, 20, 0]]);
  t.deepEqual(both[3], [[0, 1, 2, 3, 4], [30, 10]]);
  // Closing a child leaves the parent working.
  await Promise.all(children.map((c) => c.close()));
  await Promise.all(comms.map((c) => c.barrier()));
  await t.throwsAsync(children[0]!.barrier(), { instanceOf: HpckvError });
});

test('recv with a timeout rejects with HPCKV_ERR_TIMEOUT', async (t) => {
  const comms = world(t);
  await rejectsWith(t, comms[0]!.recv(1, 99, { timeoutMs: 20 }), ErrorCodes.TIMEOUT);
  // The timed-out receive took nothing: a later message goes to the next receive.
  await comms[1]!.send(0, 99, 'late');
  t.is((await comms[0]!.recv(1, 99, { timeoutMs: 1000 })).data, 'late');
});

test('recv aborted through its signal rejects with HPCKV_ERR_ABORTED', async (t) => {
  const comms = world(t);
  const controller = new AbortController();
  const pending = comms[0]!.recv(1, 4, { signal: controller.signal });
  controller.abort();
  await rejectsWith(t, pending, ErrorCodes.ABORTED);
  await rejectsWith(t, comms[0]!.recv(1, 4, { signal: controller.signal }), ErrorCodes.ABORTED);
  await comms[1]!.send(0, 4, 'kept');
  t.is((await comms[0]!.recv(1, 4)).data, 'kept');
});

test('ranks and tags out of range are TypeErrors', async (t) => {
  const comms = world(t);
  const c = comms[0]!;
  await t.throwsAsync(c.send(5, 0, null), { instanceOf: TypeError });
  await t.throwsAsync(c.send(-1, 0, null), { instanceOf: TypeError });
  await t.throwsAsync(c.send(1, ANY_TAG, null), { instanceOf: TypeError });
  await t.throwsAsync(c.send(1, TAG_MAX + 1, null), { instanceOf: TypeError });
  await t.throwsAsync(c.send(1, 1.5, null), { instanceOf: TypeError });
  await t.throwsAsync(c.recv(7, 0), { instanceOf: TypeError });
  await t.throwsAsync(c.recv(0, -2), { instanceOf: TypeError });
  await t.throwsAsync(c.bcast(5, null), { instanceOf: TypeError });
  await t.throwsAsync(c.split(0.5, 0), { instanceOf: TypeError });
  await c.send(1, TAG_MAX, 'largest tag');
  t.is((await comms[1]!.recv(0, TAG_MAX)).data, 'largest tag');
});

test('close rejects pending receives with HPCKV_ERR_COMM; a child closes without closing the world', async (t) => {
  const comms = world(t);
  const children = await Promise.all(comms.map((c) => c.split(0, c.rank)));
  const childPending = children[1]!.recv(0, 1);
  await children[1]!.close();
  await rejectsWith(t, childPending, ErrorCodes.COMM);
  await rejectsWith(t, children[1]!.send(0, 1, null), ErrorCodes.COMM);
  await comms[0]!.send(1, 1, 'world still up');
  t.is((await comms[1]!.recv(0, 1)).data, 'world still up');

  const worldPending = comms[1]!.recv(0, 2);
  const otherChildPending = children[3]!.recv(ANY_SOURCE, ANY_TAG);
  const ownChildPending = children[2]!.recv(0, 2);
  await comms[2]!.close();
  await rejectsWith(t, ownChildPending, ErrorCodes.COMM);
  await comms[1]!.close();
  await rejectsWith(t, worldPending, ErrorCodes.COMM);
  await rejectsWith(t, comms[1]!.recv(0, 2), ErrorCodes.COMM);
  // Rank 3's ANY_SOURCE receive still waits: ranks that closed finished their work, others may still send.
  await children[0]!.send(3, 5, 'from 0');
  t.deepEqual(await otherChildPending, { source: 0, tag: 5, data: 'from 0' });
});

test('a receive from a rank that closed is rejected, after what it sent before closing', async (t) => {
  const comms = world(t);
  await comms[2]!.send(0, 1, 'before close');
  const pending = comms[0]!.recv(2, 2);
  await comms[2]!.close();
  await rejectsWith(t, pending, ErrorCodes.COMM);
  t.is((await comms[0]!.recv(2, 1)).data, 'before close');
  await rejectsWith(t, comms[0]!.recv(2, 1), ErrorCodes.COMM);
  await rejectsWith(t, comms[0]!.send(2, 1, null), ErrorCodes.COMM);
});
