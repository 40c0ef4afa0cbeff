import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { createInprocWorld } from '../../../core/comm/inproc-endpoint.js';
import { startInprocServers } from '../../support/inproc-servers.js';

/**
 * The whole stack in one process over the in-process transport: two server ranks, three
 * client ranks that attach through a communicator (rank 0 alone knows the group).
 */
test('clients attach from a communicator and share one in-process group', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-inproc-'));
  const { servers, group, stop } = await startInprocServers(dir, 'inproc-test');
  const world = createInprocWorld(3);
  const results = await Promise.all(world.map(async (comm) => {
    const client = await Client.fromCommunicator(comm, 0, comm.rank === 0 ? group : undefined);
    await client.putMany(Array.from({ length: 50 }, (_, i) => [`r${comm.rank}-${i}`, `${comm.rank}:${i}`] as const));
    await comm.barrier();
    const keys = [0, 1, 2].flatMap((r) => Array.from({ length: 50 }, (_, i) => `r${r}-${i}`));
    const values = (await client.getMany(keys)).map((v) => v?.toString());
    await client.close();
    return values;
  }));
  const expected = [0, 1, 2].flatMap((r) => Array.from({ length: 50 }, (_, i) => `${r}:${i}`));
  for (const values of results) t.deepEqual(values, expected);
  const records = servers.map((s) => (s.provider.handle('stat', {}) as { databases: Record<string, { records: number }> }).databases['default']!.records);
  t.is(records[0]! + records[1]!, 150);
  t.true(records.every((n) => n > 0));
  await stop();
  await Promise.all(world.map((c) => c.close()));
  await rm(dir, { recursive: true, force: true });
});
