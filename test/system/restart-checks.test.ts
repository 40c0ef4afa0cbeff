// A rank started again must match what its data was made for, and its group file must be sound.
import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../client/client.js';
import { launchLocalGroup } from '../../server/launcher.js';
import { runScript } from '../support/run-script.js';

const CLI = fileURLToPath(new URL('../../bin/hpckv.js', import.meta.url));

function rejoin(groupFile: string, rank: string, dataDir: string): Promise<{ code: number | null; stderr: string }> {
  return runScript(CLI, ['serve', '--rejoin', groupFile, '--rank', rank, '--data', dataDir], { timeoutMs: 30_000 });
}

test('a rank restarted against another key type, partitioning or server count, or from a bad group file, refuses with a typed error naming it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-restart-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const group = await launchLocalGroup({ servers: 2, dir });
  const client = await Client.open(group.groupFile);
  await client.put('kept', 'value');
  await client.close();
  await group.stop();
  const data = join(dir, 'data');
  const original = JSON.parse(await readFile(group.groupFile, 'utf8')) as Record<string, unknown> & { servers: unknown[] };
  const variant = async (name: string, change: (g: typeof original) => void): Promise<string> => {
    const copy = structuredClone(original);
    change(copy);
    const path = join(dir, `${name}.json`);
    await writeFile(path, JSON.stringify(copy));
    return path;
  };
  const cases: Array<[string, string, RegExp]> = [
    [await variant('key-type', (g) => { g['keyType'] = 'uint64'; }), '0', /HPCKV_ERR_GROUP_FILE: .*created with keyType="bytes", this server was started with keyType="uint64"/],
    [await variant('partition', (g) => { g['partition'] = { scheme: 'hash', virtualNodes: 64, seed: 7 }; }), '0', /HPCKV_ERR_GROUP_FILE: .*created with partition=.*started with partition=/],
    [await variant('servers', (g) => { g.servers = g.servers.slice(0, 1); }), '0', /HPCKV_ERR_GROUP_FILE: .*created with serverCount=2, this server was started with serverCount=1/],
    [group.groupFile, '5', /HPCKV_ERR_BAD_CONFIG: group file .* has ranks 0\.\.1, not 5/],
    [join(dir, 'missing.json'), '0', /HPCKV_ERR_GROUP_FILE: group file .*missing\.json does not exist/],
  ];
  const corrupt = join(dir, 'corrupt.json');
  await writeFile(corrupt, '{"format": "hpckv-gro');
  cases.push([corrupt, '0', /HPCKV_ERR_GROUP_FILE: group file .*corrupt\.json/]);
  for (const [file, rank, expected] of cases) {
    const result = await rejoin(file, rank, data);
    t.not(result.code, 0, file);
    t.regex(result.stderr, expected);
  }
  // The right group file still works, and the data is there.
  const back = launchLocalGroup({ servers: 2, dir });
  const again = await back;
  const reader = await Client.open(again.groupFile);
  t.is((await reader.get('kept'))?.toString(), 'value');
  await reader.close();
  await again.stop();
});
