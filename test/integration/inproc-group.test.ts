import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { createInprocWorld } from '../../core/comm/inproc-endpoint.js';
import { DEFAULT_PARTITION, GROUP_FILE_FORMAT, type GroupFile } from '../../core/group-file.js';
import { resolveLimits } from '../../core/limits.js';
import { startServerRank, type RunningServer } from '../../server/server-rank.js';

/**
 * The whole stack in one process over the in-process transport: two server ranks, three
 * client ranks that attach through a communicator (rank 0 alone knows the group).
 */
test('clients attach from a communicator and share one in-process group', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-inproc-'));
  const limits = resolveLimits();
  const servers: RunningServer[] = [];
  for (let rank = 0; rank < 2; rank++) {
    servers.push(await startServerRank({
      rank, size: 2, service: 'inproc-test', dataDir: dir, databases: ['default'],
      listenAddress: `inproc://${dir}/server-${rank}`, limits, partition: DEFAULT_PARTITION, epoch: 0,
    }));
  }
  const group: GroupFile = {
    format: GROUP_FILE_FORMAT, service: 'inproc-test', keyType: 'bytes', partition: DEFAULT_PARTITION, epoch: 0,
    limits: {}, servers: servers.map((s) => ({ rank: s.rank, address: s.address, databases: ['default'] })),
    createdAt: new Date().toISOString(),
  };
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
  for (const s of servers) await s.stop();
  await Promise.all(world.map((c) => c.close()));
  await rm(dir, { recursive: true, force: true });
});
