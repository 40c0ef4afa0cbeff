import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { isHpckvError } from '../../core/errors.js';
import { launchLocalGroup } from '../../server/launcher.js';

test('a shutdown during a write storm loses no acknowledged write, and a restart serves them all', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-shutdown-'));
  const first = await launchLocalGroup({ servers: 2, dir });
  const writer = await Client.open(first.groupFile);
  const admin = await Client.open(first.groupFile);
  const n = 3000;
  const writes = Array.from({ length: n }, (_, i) => writer.put(`k${i}`, `v${i}`));
  // Once some writes are acknowledged, shut the servers down while the rest are in flight.
  await writes[100];
  await admin.shutdownServers();
  const outcomes = await Promise.allSettled(writes);
  await first.exited;
  const acknowledged = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
  for (const o of outcomes) {
    if (o.status === 'rejected') t.true(isHpckvError(o.reason), `a refused write fails with a typed error: ${String(o.reason)}`);
  }
  t.true(acknowledged.length > 100);
  await writer.close();
  await admin.close();

  const second = await launchLocalGroup({ servers: 2, dir });
  const reader = await Client.open(second.groupFile);
  const values = await reader.getMany(acknowledged.map((i) => `k${i}`));
  t.deepEqual(values.map((v) => v?.toString()), acknowledged.map((i) => `v${i}`));
  await reader.shutdownServers();
  await reader.close();
  await second.exited;
  await rm(dir, { recursive: true, force: true });
});
