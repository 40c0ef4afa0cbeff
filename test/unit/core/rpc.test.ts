import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HpckvError, ErrorCodes } from '../../../core/errors.js';
import { resolveLimits, type Limits } from '../../../core/limits.js';
import { RpcClient } from '../../../core/rpc/rpc-client.js';
import { RpcServer, type RpcHandler } from '../../../core/rpc/rpc-server.js';

/** A handler with a synchronous echo, an async echo that waits for the test's release, and a failure. */
function makeHandler(): { handler: RpcHandler; release: () => void; held: () => number } {
  let waiting: Array<() => void> = [];
  const handler: RpcHandler = (op, body) => {
    if (op === 'echo') return body;
    if (op === 'hold') return new Promise((resolve) => { waiting.push(() => resolve(body)); });
    if (op === 'fail') throw new HpckvError(ErrorCodes.KEY_EXISTS, 'exists', { details: { key: 'k' } });
    if (op === 'big') return Buffer.alloc(Number(body));
    throw new HpckvError(ErrorCodes.UNKNOWN_OP, `unknown op ${op}`);
  };
  return {
    handler,
    release: () => { const w = waiting; waiting = []; for (const wake of w) wake(); },
    held: () => waiting.length,
  };
}

async function withServer(address: string, limits: Limits, run: (server: RpcServer, h: ReturnType<typeof makeHandler>) => Promise<void>): Promise<void> {
  const h = makeHandler();
  const server = await RpcServer.listen(address, limits, h.handler);
  try {
    await run(server, h);
  } finally {
    h.release();
    await server.close(1000);
  }
}

const transports: Array<[string, () => Promise<{ address: string; cleanup: () => Promise<void> }>]> = [
  ['tcp', async () => ({ address: 'tcp://127.0.0.1:0', cleanup: async () => undefined })],
  ['unix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hpckv-rpc-'));
    return { address: `unix://${dir}/s.sock`, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }],
  ['inproc', async () => ({ address: `inproc://rpc-test-${process.pid}-${Math.random()}`, cleanup: async () => undefined })],
];

for (const [name, make] of transports) {
  test(`${name}: many requests in flight on one connection get their own replies`, async (t) => {
    const { address, cleanup } = await make();
    const limits = resolveLimits();
    await withServer(address, limits, async (server) => {
      const client = await RpcClient.connect(server.address, limits);
      const bodies = Array.from({ length: 500 }, (_, i) => ({ i, bytes: Buffer.from(`v${i}`) }));
      const replies = await Promise.all(bodies.map((body) => client.call('echo', body)));
      t.deepEqual(replies.map((r) => (r as { i: number }).i), bodies.map((b) => b.i));
      t.deepEqual(replies.map((r) => Buffer.from((r as { bytes: Uint8Array }).bytes).toString()), bodies.map((b) => `v${b.i}`));
      client.close();
    });
    await cleanup();
  });

  test(`${name}: a handler error arrives as the same typed error`, async (t) => {
    const { address, cleanup } = await make();
    const limits = resolveLimits();
    await withServer(address, limits, async (server) => {
      const client = await RpcClient.connect(server.address, limits);
      const error = await t.throwsAsync(client.call('fail', {}), { instanceOf: HpckvError });
      t.is(error?.code, ErrorCodes.KEY_EXISTS);
      t.deepEqual(error?.details, { key: 'k' });
      t.is((await t.throwsAsync(client.call('nope', {}), { instanceOf: HpckvError }))?.code, ErrorCodes.UNKNOWN_OP);
      t.deepEqual(await client.call('echo', 'still serving'), 'still serving');
      client.close();
    });
    await cleanup();
  });
}

test('timeout rejects with HPCKV_ERR_TIMEOUT and a late reply is dropped', async (t) => {
  const limits = resolveLimits();
  await withServer('tcp://127.0.0.1:0', limits, async (server, h) => {
    const client = await RpcClient.connect(server.address, limits);
    const pending = client.call('hold', 'late', { timeoutMs: 30 });
    const error = await t.throwsAsync(pending, { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.TIMEOUT);
    t.true(error?.retryable);
    h.release();
    t.is(await client.call('echo', 'after'), 'after');
    client.close();
  });
});

test('AbortSignal aborts a call in flight, and an aborted signal fails at once', async (t) => {
  const limits = resolveLimits();
  await withServer('tcp://127.0.0.1:0', limits, async (server, h) => {
    const client = await RpcClient.connect(server.address, limits);
    const controller = new AbortController();
    const pending = client.call('hold', 'x', { signal: controller.signal });
    controller.abort();
    t.is((await t.throwsAsync(pending, { instanceOf: HpckvError }))?.code, ErrorCodes.ABORTED);
    t.is((await t.throwsAsync(client.call('echo', 1, { signal: controller.signal }), { instanceOf: HpckvError }))?.code, ErrorCodes.ABORTED);
    h.release();
    client.close();
  });
});

test('the client queues calls beyond inFlightRequestsPerConnectionMax instead of overrunning the server', async (t) => {
  const limits = resolveLimits({ inFlightRequestsPerConnectionMax: 4 });
  let active = 0;
  let maxActive = 0;
  const handler: RpcHandler = (_op, body) => {
    active++;
    maxActive = Math.max(maxActive, active);
    return new Promise((resolve) => setImmediate(() => setImmediate(() => { active--; resolve(body); })));
  };
  const server = await RpcServer.listen('tcp://127.0.0.1:0', limits, handler);
  const client = await RpcClient.connect(server.address, limits);
  const calls = Array.from({ length: 10 }, (_, i) => client.call('slow', i));
  t.is(client.inFlight, 4);
  t.deepEqual(await Promise.all(calls), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.is(maxActive, 4);
  client.close();
  await server.close();
});

test('a reply larger than frameBytesMax fails that request with FRAME_TOO_LARGE and the connection stays up', async (t) => {
  const limits = resolveLimits({ frameBytesMax: 1 << 20, valueBytesMax: 1000, keyBytesMax: 100 });
  await withServer('tcp://127.0.0.1:0', limits, async (server) => {
    const client = await RpcClient.connect(server.address, limits);
    t.is((await t.throwsAsync(client.call('big', 2 << 20), { instanceOf: HpckvError }))?.code, ErrorCodes.FRAME_TOO_LARGE);
    t.is((await t.throwsAsync(client.call('echo', Buffer.alloc(2 << 20)), { instanceOf: HpckvError }))?.code, ErrorCodes.FRAME_TOO_LARGE);
    t.is(((await client.call('big', 10)) as Uint8Array).length, 10);
    client.close();
  });
});

test('connections beyond connectionsPerServerMax are refused with a typed error', async (t) => {
  const limits = resolveLimits({ connectionsPerServerMax: 2 });
  await withServer('tcp://127.0.0.1:0', limits, async (server) => {
    const a = await RpcClient.connect(server.address, limits);
    const b = await RpcClient.connect(server.address, limits);
    t.is(await a.call('echo', 1), 1);
    t.is(await b.call('echo', 2), 2);
    const c = await RpcClient.connect(server.address, limits);
    const error = await t.throwsAsync(c.call('echo', 3), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.TOO_MANY_CONNECTIONS);
    t.is(await a.call('echo', 4), 4);
    a.close(); b.close(); c.close();
  });
});

test('server close drains requests in flight and refuses new ones', async (t) => {
  const limits = resolveLimits();
  const h = makeHandler();
  const server = await RpcServer.listen('tcp://127.0.0.1:0', limits, h.handler);
  const client = await RpcClient.connect(server.address, limits);
  const held = client.call('hold', 'drained');
  await client.call('echo', 'barrier');
  const closing = server.close(5000);
  h.release();
  t.is(await held, 'drained');
  await closing;
  const error = await t.throwsAsync(client.call('echo', 'late'), { instanceOf: HpckvError });
  t.true(error?.code === ErrorCodes.CONNECTION_CLOSED || error?.code === ErrorCodes.SHUTTING_DOWN);
});

test('connecting to nothing is HPCKV_ERR_CONNECT_FAILED', async (t) => {
  const limits = resolveLimits({ connectTimeoutMs: 2000 });
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-rpc-'));
  const error = await t.throwsAsync(RpcClient.connect(`unix://${dir}/none.sock`, limits), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.CONNECT_FAILED);
  t.is((await t.throwsAsync(RpcClient.connect('inproc://nobody-here', limits), { instanceOf: HpckvError }))?.code, ErrorCodes.CONNECT_FAILED);
  await rm(dir, { recursive: true, force: true });
});

test('a client that sends but does not read is paused at replyBacklogBytesMax and loses nothing', async (t) => {
  const limits = resolveLimits({ replyBacklogBytesMax: 1 << 20 });
  let handled = 0;
  let pausedAt = -1;
  let onPaused: () => void = () => undefined;
  const paused = new Promise<void>((resolve) => { onPaused = resolve; });
  const server = await RpcServer.listen('tcp://127.0.0.1:0', limits, (_op, body) => {
    handled++;
    return Buffer.alloc(256 * 1024, Number(body) & 0xff);
  }, { onReadPaused: () => { if (pausedAt < 0) pausedAt = handled; onPaused(); } });
  const { createConnection } = await import('node:net');
  const { encodeFramedMessage } = await import('../../../core/wire/message-codec.js');
  const { FrameDecoder } = await import('../../../core/wire/frame-codec.js');
  const { decodeFramePayload } = await import('../../../core/wire/tail-frames.js');
  const port = Number(server.address.split(':').pop());
  const socket = createConnection({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.pause();
  const requests = 400; // 100 MiB of replies if the server answered them all at once
  socket.write(Buffer.concat(Array.from({ length: requests }, (_, i) => encodeFramedMessage([0, i + 1, 'big', i]))));
  await paused;
  t.true(pausedAt < requests, `server stopped reading after ${pausedAt} of ${requests} requests`);
  const decoder = new FrameDecoder(limits.frameBytesMax);
  const ids: number[] = [];
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const reply = decodeFramePayload(frame) as [number, number, Uint8Array];
        t.is(reply[0], 1);
        t.is(reply[2][0], (reply[1] - 1) & 0xff);
        ids.push(reply[1]);
      }
      if (ids.length === requests) resolve();
    });
    socket.resume();
  });
  t.deepEqual(ids, Array.from({ length: requests }, (_, i) => i + 1));
  t.is(handled, requests);
  socket.destroy();
  await server.close();
});

test('a Unix socket path in use by a live server is refused; a stale one is taken over', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-rpc-'));
  const limits = resolveLimits();
  const address = `unix://${dir}/s.sock`;
  const live = await RpcServer.listen(address, limits, () => 'live');
  const error = await t.throwsAsync(RpcServer.listen(address, limits, () => 'thief'), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
  const client = await RpcClient.connect(address, limits);
  t.is(await client.call('x', null), 'live');
  client.close();
  await live.close();
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${dir}/stale.sock`, '');
  const fresh = await RpcServer.listen(`unix://${dir}/stale.sock`, limits, () => 'fresh');
  const other = await RpcClient.connect(`unix://${dir}/stale.sock`, limits);
  t.is(await other.call('x', null), 'fresh');
  other.close();
  await fresh.close();
  await rm(dir, { recursive: true, force: true });
});
