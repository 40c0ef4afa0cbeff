import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { resolveLimits } from '../../../core/limits.js';
import { AUTH_CHALLENGE_OP, AUTH_PROVE_OP } from '../../../core/rpc/auth-handshake.js';
import { RpcClient } from '../../../core/rpc/rpc-client.js';
import { RpcServer, type RpcHandler } from '../../../core/rpc/rpc-server.js';
import { FrameDecoder } from '../../../core/wire/frame-codec.js';
import { decodeMessage, encodeFramedMessage } from '../../../core/wire/message-codec.js';

/**
 * The handshake between RpcClient and RpcServer on every transport, and the client's side of
 * mutual authentication: it refuses a server that does not ask for the secret or cannot prove it.
 * (The server's refusals of hostile peers, over raw sockets, are in test/system/auth.test.ts.)
 */

const limits = resolveLimits();
const SECRET = randomBytes(32);
const echo: RpcHandler = (op, body) => (op === 'echo' ? body : null);

const addresses: Array<[string, () => Promise<{ address: string; cleanup: () => Promise<void> }>]> = [
  ['tcp', async () => ({ address: 'tcp://127.0.0.1:0', cleanup: async () => undefined })],
  ['unix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hpckv-auth-'));
    return { address: `unix://${dir}/s.sock`, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }],
  ['inproc', async () => ({ address: `inproc://auth-test-${process.pid}-${Math.random()}`, cleanup: async () => undefined })],
];

for (const [name, make] of addresses) {
  test(`${name}: a client with the secret is served; one with another secret or none is refused`, async (t) => {
    const { address, cleanup } = await make();
    const server = await RpcServer.listen(address, limits, echo, { authSecret: SECRET });
    try {
      const good = await RpcClient.connect(server.address, limits, { authSecret: SECRET });
      t.is(await good.call('echo', 'hi'), 'hi');

      const wrong = await t.throwsAsync(RpcClient.connect(server.address, limits, { authSecret: randomBytes(32) }), { instanceOf: HpckvError });
      t.is(wrong?.code, ErrorCodes.UNAUTHENTICATED);
      t.false(wrong?.retryable);

      const none = await RpcClient.connect(server.address, limits);
      const refused = await t.throwsAsync(none.call('echo', 'sneak'), { instanceOf: HpckvError });
      t.is(refused?.code, ErrorCodes.UNAUTHENTICATED);
      t.is(await good.call('echo', 'still'), 'still', 'the authenticated connection is untouched');
      good.close();
    } finally {
      await server.close();
      await cleanup();
    }
  });
}

test('a client holding a secret refuses a server that does not ask for one', async (t) => {
  const server = await RpcServer.listen('tcp://127.0.0.1:0', limits, echo);
  const error = await t.throwsAsync(RpcClient.connect(server.address, limits, { authSecret: SECRET }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.UNAUTHENTICATED);
  t.regex(error!.message, /does not ask for the group's secret/);
  // Without a secret, that server serves as ever.
  const open = await RpcClient.connect(server.address, limits);
  t.is(await open.call('echo', 1), 1);
  open.close();
  await server.close();
});

test('a client refuses an impostor that accepts any proof but cannot prove the secret itself', async (t) => {
  // A hand-written server (RpcServer would answer authChallenge itself): a fresh challenge, then a made-up proof.
  const impostor = createServer((socket) => {
    const decoder = new FrameDecoder(limits.frameBytesMax);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const [, id, op] = decodeMessage(frame) as [number, number, string];
        const body = op === AUTH_CHALLENGE_OP ? { required: true, scheme: 'hmac-sha256', nonce: randomBytes(32) }
          : op === AUTH_PROVE_OP ? { proof: randomBytes(32) } : 'you are in';
        socket.write(encodeFramedMessage([1, id, body]));
      }
    });
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  const { port } = impostor.address() as AddressInfo;
  const error = await t.throwsAsync(RpcClient.connect(`tcp://127.0.0.1:${port}`, limits, { authSecret: SECRET }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.UNAUTHENTICATED);
  t.regex(error!.message, /could not prove it knows the group's secret/);
  impostor.close();
});

test('secrets shorter than 16 bytes are refused as configuration errors', async (t) => {
  const error = await t.throwsAsync(RpcServer.listen('tcp://127.0.0.1:0', limits, echo, { authSecret: randomBytes(15) }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
});
