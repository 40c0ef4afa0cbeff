import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import type { Limits } from '../../../core/limits.js';
import type { ProcedureSpec } from '../../../core/procedure-spec.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';
import { u64Key as k, u64Of } from '../../support/u64-keys.js';

/**
 * The blast radius of one job is that job: on a server with one sandbox process, a memory bomb
 * (which ends that process), a loop the host's watchdog must kill the process for, and a plain
 * infinite loop (stopped inside its isolate) fire while a filter, a map and a reduce of three other
 * clients run there. Only the bomb's and the loops' jobs fail.
 */
const ROWS = 12_000;
// One process for every job, so the bystanders' calls are queued where the bomb goes off.
const LIMITS: Partial<Limits> = { procedureIsolatesMax: 1, procedureWallMsMax: 1000, procedureBatchEntriesMax: 500 };
/** About 0.2 ms of CPU per entry: the bystanders run on well past the watchdog's kill (10 s after the stuck call began). */
const SLOW = 'let spin = 0; for (let i = 0; i < 2e5; i++) spin += i & 1;';

let dir: string;
let group: LocalGroup;
const clients: Client[] = [];

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-bystanders-'));
  group = await launchLocalGroup({ servers: 1, dir, limits: LIMITS });
  for (let i = 0; i < 6; i++) clients.push(await Client.open(group.groupFile));
  const rows = Array.from({ length: ROWS }, (_, i) => [k(i), Buffer.from(String(i))] as const);
  await clients[0]!.putMany(rows);
});

test.after.always(async () => {
  for (const client of clients) await client.close();
  await group?.stop();
  await rm(dir, { recursive: true, force: true });
});

const evens: ProcedureSpec<'filter'> = { kind: 'filter', source: `(key, value) => { ${SLOW} return Number(hpckv.utf8(value)) % 2 === 0; }` };
const doubled: ProcedureSpec<'map'> = { kind: 'map', source: `(key, value) => { ${SLOW} return { value: String(Number(hpckv.utf8(value)) * 2) }; }` };
const sum: ProcedureSpec<'reduce'> = {
  kind: 'reduce',
  source: `({ init: () => 0, step: (acc, key, value) => { ${SLOW} return acc + Number(hpckv.utf8(value)); }, combine: (a, b) => a + b })`,
};
const bomb: ProcedureSpec<'filter'> = { kind: 'filter', source: '() => new Array(2 ** 28).fill(0).length > 0' };
const loop: ProcedureSpec<'filter'> = { kind: 'filter', source: '() => { for (;;) {} }' };
/** A loop inside a builtin that never looks for termination and allocates nothing: only the watchdog ends it. */
const stuckLoop: ProcedureSpec<'filter'> = { kind: 'filter', source: '() => Array.prototype.indexOf.call({ length: 2 ** 40 }, 1) >= 0' };

test('a memory bomb, a loop the watchdog kills and an infinite loop fail alone; a filter, a map and a reduce running in the same sandbox process succeed', async (t) => {
  const [a, b, c, d, e, f] = clients as [Client, Client, Client, Client, Client, Client];
  const bystanders = [await a.execute(evens), await b.execute(doubled), await c.execute(sum)] as const;
  // Each has had a batch answered, so each keeps its next batches queued at the one sandbox process.
  for (const handle of bystanders) {
    while ((await handle.poll()).scanned === 0) { /* a round trip per look */ }
  }
  // Both in the one process: the bomb ends it; the stuck loop then runs in the replacement until the watchdog kills that.
  const [bombError, stuckError] = await Promise.all([
    t.throwsAsync((await d.execute(bomb, { lt: k(10) })).wait(), { instanceOf: HpckvError }),
    t.throwsAsync((await e.execute(stuckLoop, { lt: k(10) })).wait(), { instanceOf: HpckvError }),
  ]);
  t.is(bombError?.code, ErrorCodes.PROCEDURE_MEMORY);
  t.is(stuckError?.code, ErrorCodes.PROCEDURE_TIMEOUT);
  t.regex(stuckError?.message ?? '', /did not answer within \d+ ms; it is replaced/);
  // Started before the bomb and still running after both kills: they were in flight when the processes died.
  for (const handle of bystanders) t.is((await handle.poll()).state, 'running');
  const loopError = await t.throwsAsync((await f.execute(loop, { lt: k(10) })).wait(), { instanceOf: HpckvError });
  t.is(loopError?.code, ErrorCodes.PROCEDURE_TIMEOUT);

  const ids = Array.from({ length: ROWS }, (_, i) => i);
  const [kept, mapped, total] = await Promise.all([bystanders[0].wait(), bystanders[1].wait(), bystanders[2].wait()]);
  t.deepEqual(kept.map(([key, value]) => [u64Of(key), value.toString()]), ids.filter((i) => i % 2 === 0).map((i) => [i, String(i)]));
  t.deepEqual(mapped.map(([key, value]) => [u64Of(key), value.toString()]), ids.map((i) => [i, String(i * 2)]));
  t.is(total, ids.reduce((acc, i) => acc + i, 0));
});
