// A server restarted after a clean stop loads each store's summary; after kill -9 it serves at once
// and counts its records in the background (held here by a test hook, so writes provably run
// during the count); a summary that is stale or damaged is never used. Stats are exact throughout.
import test, { type ExecutionContext } from 'ava';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { ErrorCodes, isHpckvError } from '../../core/errors.js';
import type { DatabaseStartup, DatabaseStats } from '../../core/protocol/messages.js';
import { launchLocalGroup } from '../../server/launcher.js';
import { rejoinRank } from '../support/rejoin-rank.js';
import { statsOf, type StatsModel } from '../support/stats-model.js';

const HOLD_COUNT = { HPCKV_TEST_HOOKS: '1', HPCKV_TEST_HOLD_COUNT: '1' };

interface Group {
  dir: string;
  groupFile: string;
  client: Client;
  model: StatsModel;
  /** The store's summary file (rank 0, database default). */
  summaryPath: string;
}

/** A one-server group loaded with 3000 records (and some overwritten or deleted), then stopped cleanly. */
async function loadedAndStopped(t: ExecutionContext): Promise<Group> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-startup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const group = await launchLocalGroup({ servers: 1, dir });
  const client = await Client.open(group.groupFile);
  t.teardown(() => client.close());
  const model: StatsModel = new Map();
  for (let start = 0; start < 3000; start += 500) {
    const entries = Array.from({ length: 500 }, (_, j) => [`key-${start + j}`, Buffer.alloc((start + j) % 40)] as const);
    await client.putMany(entries);
    for (const [key, value] of entries) model.set(key, value.length);
  }
  await client.put('key-1', Buffer.alloc(100));
  model.set('key-1', 100);
  await client.delMany(['key-2', 'key-3', 'absent']);
  model.delete('key-2');
  model.delete('key-3');
  const [stat] = await client.stat();
  t.deepEqual(stat!.databases['default'], statsOf(model));
  t.deepEqual(stat!.startup['default']!.summary, 'new');
  await group.stop();
  return { dir, groupFile: group.groupFile, client, model, summaryPath: join(dir, 'data', 'rank-0', 'default', 'hpckv-summary') };
}

async function rejoin(t: ExecutionContext, g: Group, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = await rejoinRank(g.groupFile, 0, join(g.dir, 'data'), env);
  t.teardown(() => stopped(child, 'SIGKILL'));
  return child;
}

/** Sends `signal` and resolves once the process has exited (at once if it already has). */
function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  return exited;
}

async function statOf(client: Client): Promise<{ stats: DatabaseStats; startup: DatabaseStartup }> {
  const [stat] = await client.stat({ db: 'default' });
  return { stats: stat!.databases['default']!, startup: stat!.startup['default']! };
}

/** Every key of the model reads back with its length, and no other key is stored. */
async function readsBack(t: ExecutionContext, g: Group): Promise<void> {
  const keys = [...g.model.keys()];
  const values = await g.client.getMany(keys);
  t.deepEqual(values.map((value) => value?.length), keys.map((key) => g.model.get(key)));
  t.is(await g.client.count(), g.model.size);
}

test('a clean restart loads the summary: exact stats without a count, write-once keys still refused, exact stats after more writes', async (t) => {
  const g = await loadedAndStopped(t);
  const child = await rejoin(t, g);
  const { stats, startup } = await statOf(g.client);
  t.is(startup.summary, 'loaded');
  t.true(startup.statsReadyMs >= 0);
  t.deepEqual(stats, statsOf(g.model));
  // Write-once keys stay refused across the restart (the filter loads in the background meanwhile).
  const refusals = await Promise.all([...g.model.keys()].slice(0, 500).map((key) =>
    g.client.putIfAbsent(key, 'overwritten').then(() => false, (error: unknown) => isHpckvError(error, ErrorCodes.KEY_EXISTS))));
  t.is(refusals.filter(Boolean).length, 500);
  await g.client.put('key-10', Buffer.alloc(3));
  g.model.set('key-10', 3);
  await g.client.put('after', Buffer.alloc(9));
  g.model.set('after', 9);
  t.deepEqual((await statOf(g.client)).stats, statsOf(g.model));
  await readsBack(t, g);
  await stopped(child, 'SIGTERM');
  const again = await rejoin(t, g);
  const back = await statOf(g.client);
  t.is(back.startup.summary, 'loaded', 'the close after the writes saved a new summary');
  t.deepEqual(back.stats, statsOf(g.model));
  await stopped(again, 'SIGTERM');
});

test('kill -9 then --rejoin: the rank serves while it counts, writes of every kind during the count keep stats exact, stat waits for the count', async (t) => {
  const g = await loadedAndStopped(t);
  const first = await rejoin(t, g);
  await g.client.put('before-crash', Buffer.alloc(21));
  g.model.set('before-crash', 21);
  await stopped(first, 'SIGKILL');

  const child = await rejoin(t, g, HOLD_COUNT);
  await g.client.put('key-4', Buffer.alloc(77)); // stored before: its old size is read
  g.model.set('key-4', 77);
  await g.client.put('new-1', Buffer.alloc(5), { sync: true });
  g.model.set('new-1', 5);
  await g.client.del('key-5');
  g.model.delete('key-5');
  await g.client.del('never-stored');
  await t.throwsAsync(g.client.putIfAbsent('key-6', 'x'), { code: ErrorCodes.KEY_EXISTS });
  await g.client.putIfAbsent('new-2', Buffer.alloc(8));
  g.model.set('new-2', 8);
  t.is(await g.client.append('key-7', Buffer.alloc(10)), 7 + 10);
  g.model.set('key-7', 17);
  t.is(await g.client.append('new-3', Buffer.alloc(4)), 4);
  g.model.set('new-3', 4);
  await g.client.batch([{ type: 'put', key: 'key-8', value: Buffer.alloc(1) }, { type: 'put', key: 'key-8', value: Buffer.alloc(2) },
    { type: 'del', key: 'key-9' }, { type: 'put', key: 'new-4', value: Buffer.alloc(6) }, { type: 'del', key: 'new-4' }]);
  g.model.set('key-8', 2);
  g.model.delete('key-9');
  t.is(await g.client.deleteRange({ gte: 'key-20', lt: 'key-21' }), 111);
  for (const key of [...g.model.keys()]) if (key >= 'key-20' && key < 'key-21') g.model.delete(key);

  let answered = false;
  const stat = statOf(g.client).finally(() => { answered = true; });
  await g.client.put('while-stat-waits', Buffer.alloc(2));
  g.model.set('while-stat-waits', 2);
  t.false(answered, 'stat waits for the held count; writes do not');
  child.kill('SIGUSR2'); // the test hook: let the count run
  const { stats, startup } = await stat;
  t.is(startup.summary, 'missing');
  t.true(startup.statsReadyMs >= 0);
  t.deepEqual(stats, statsOf(g.model));
  await readsBack(t, g);
  await stopped(child, 'SIGTERM');
});

test('a summary is never used for a store that changed after it was written, nor when damaged: the rank counts and stats stay exact', async (t) => {
  const g = await loadedAndStopped(t);
  const written = await readFile(g.summaryPath);
  // Loaded (and removed) by this start; then a write and a crash, and the old summary put back.
  const first = await rejoin(t, g);
  t.is((await statOf(g.client)).startup.summary, 'loaded');
  await g.client.put('after-summary', Buffer.alloc(33));
  g.model.set('after-summary', 33);
  await stopped(first, 'SIGKILL');
  await writeFile(g.summaryPath, written);
  const second = await rejoin(t, g);
  t.like(await statOf(g.client), { stats: statsOf(g.model), startup: { summary: 'stale' } });
  await stopped(second, 'SIGTERM');

  const damaged = await readFile(g.summaryPath);
  damaged[30]! ^= 0x01; // in the header: its checksum fails
  await writeFile(g.summaryPath, damaged);
  const third = await rejoin(t, g);
  t.like(await statOf(g.client), { stats: statsOf(g.model), startup: { summary: 'corrupt' } });
  await readsBack(t, g);
  await stopped(third, 'SIGTERM');
});
