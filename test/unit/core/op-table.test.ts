// The op table is what both sides dispatch by: a server answers exactly the ops it declares
// (every other name is UNKNOWN_OP, before any service sees it), and the names derive from it.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError, isHpckvError } from '../../../core/errors.js';
import { resolveLimits } from '../../../core/limits.js';
import { CLIENT_OPS, clientOp, OP_NAMES, SERVER_OPS, serverOp } from '../../../core/protocol/op-table.js';
import { RpcClient } from '../../../core/rpc/rpc-client.js';
import { startInprocServers } from '../../support/inproc-servers.js';

test('op names derive from the table; lookups refuse names it lacks, inherited ones included', (t) => {
  t.deepEqual([...OP_NAMES], Object.keys(SERVER_OPS));
  t.is(serverOp('put').service, 'kv');
  t.is(serverOp('putManyPart').service, 'stagedPuts');
  t.is(clientOp('regionDone').service, 'regionCompletions');
  for (const bad of ['nope', 'toString', '__proto__', 42, undefined]) {
    t.is(t.throws(() => serverOp(bad), { instanceOf: HpckvError })?.code, ErrorCodes.UNKNOWN_OP, String(bad));
    t.is(t.throws(() => clientOp(bad), { instanceOf: HpckvError })?.code, ErrorCodes.UNKNOWN_OP, String(bad));
  }
  t.deepEqual(Object.keys(CLIENT_OPS).sort(), ['procDone', 'regionDone', 'regionRead', 'regionWrite']);
  t.deepEqual(Object.entries(SERVER_OPS).filter(([, spec]) => spec.testOnly).map(([op]) => op), ['regionTestHold']);
});

test('a server rank answers every op of the table (a bad body is not an unknown op) and no other', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-op-table-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const servers = await startInprocServers(dir, 'op-table', 1);
  const client = await RpcClient.connect(servers.group.servers[0]!.address, resolveLimits());
  try {
    const answers: Record<string, string> = {};
    for (const op of OP_NAMES.filter((name) => name !== 'shutdown' && !SERVER_OPS[name].testOnly)) {
      answers[op] = await client.call(op, { db: 'no-such-db' }).then(() => 'answered', (error: unknown) => (isHpckvError(error) ? error.code : String(error)));
    }
    t.deepEqual(Object.entries(answers).filter(([, code]) => code === ErrorCodes.UNKNOWN_OP), []);
    t.is(answers['get'], ErrorCodes.UNKNOWN_DATABASE);
    for (const op of ['nope', 'handle', 'regionRead', 'procDone']) {
      const error = await t.throwsAsync(client.call(op, {}));
      t.is(isHpckvError(error) ? error.code : undefined, ErrorCodes.UNKNOWN_OP, op);
    }
    t.is(await client.call('shutdown', {}), null);
  } finally {
    client.close();
    await servers.stop();
  }
});
