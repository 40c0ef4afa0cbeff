import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readGroupFile } from '../../core/group-file.js';

const HPCKV = fileURLToPath(new URL('../../bin/hpckv.js', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string }

function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Run>; line: (pattern: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, ['--no-node-snapshot', HPCKV, ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); for (const w of watchers) w(); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  // Resolves with the first stdout line matching `pattern` (waits on output events, never polls).
  const line = (pattern: RegExp): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      const found = stdout.split('\n').find((l) => pattern.test(l));
      if (found !== undefined) resolve(found);
    };
    watchers.push(check);
    check();
    void done.then((r) => reject(new Error(`exited ${r.code} before printing ${pattern}: ${r.stderr}`)));
  });
  return { child, done, line };
}

const run = (args: string[], env?: NodeJS.ProcessEnv): Promise<Run> => start(args, env).done;

test('hpckv launch serves a group; put/get/del/stat work from the CLI; Ctrl-C stops every server', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-cli-'));
  const launch = start(['launch', '--servers', '3', '--dir', dir]);
  const ready = await launch.line(/group file: /);
  const groupFile = ready.slice(ready.indexOf('group file: ') + 'group file: '.length).trim();
  t.is((await readGroupFile(groupFile)).servers.length, 3);
  const put = await run(['put', '--group', groupFile, 'hello', 'world']);
  t.is(put.code, 0, put.stderr);
  const got = await run(['get', '--group', groupFile, 'hello']);
  t.is(got.code, 0);
  t.is(got.stdout, 'world\n');
  const stat = await run(['stat', '--group', groupFile]);
  const stats = JSON.parse(stat.stdout) as Array<{ rank: number; databases: Record<string, { records: number }> }>;
  t.deepEqual(stats.map((s) => s.rank), [0, 1, 2]);
  t.is(stats.reduce((n, s) => n + s.databases['default']!.records, 0), 1);
  t.is((await run(['del', '--group', groupFile, 'hello'])).code, 0);
  const missing = await run(['get', '--group', groupFile, 'hello']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /not found: hello/);
  launch.child.kill('SIGINT');
  const ended = await launch.done;
  t.is(ended.code, 0);
  t.regex(ended.stdout, /all servers stopped/);
  // The servers are gone: a client now fails with a typed connect error.
  const after = await run(['get', '--group', groupFile, 'hello']);
  t.is(after.code, 1);
  t.regex(after.stderr, /HPCKV_ERR_CONNECT_FAILED/);
  await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

for (const rendezvous of ['group directory', 'rank 0 address']) test(`hpckv serve forms a group from an mpirun environment (OMPI_COMM_WORLD_RANK/SIZE), meeting at the ${rendezvous}`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-serve-'));
  const extra = rendezvous === 'rank 0 address' ? ['--root-address', `tcp://127.0.0.1:${await freePort()}`] : [];
  const ranks = [0, 1].map((rank) => start(['serve', '--group-dir', dir, '--data', join(dir, 'data'), '--transport', 'tcp', ...extra], {
    OMPI_COMM_WORLD_RANK: String(rank), OMPI_COMM_WORLD_SIZE: '2', HPCKV_RANK: '', HPCKV_SIZE: '', HPCKV_LAUNCH_ID: `t${process.pid}`,
  }));
  await Promise.all(ranks.map((r, rank) => r.line(new RegExp(`rank ${rank}/2 serving tcp://`))));
  const group = await readGroupFile(join(dir, 'group.json'));
  t.deepEqual(group.servers.map((s) => s.rank), [0, 1]);
  t.true(group.servers.every((s) => s.address.startsWith('tcp://127.0.0.1:')));
  t.is((await run(['put', '--group', join(dir, 'group.json'), 'k', 'v'])).code, 0);
  t.is((await run(['get', '--group', join(dir, 'group.json'), 'k'])).stdout, 'v\n');
  for (const r of ranks) r.child.kill('SIGTERM');
  const exits = await Promise.all(ranks.map((r) => r.done));
  t.deepEqual(exits.map((e) => e.code), [0, 0]);
  await rm(dir, { recursive: true, force: true });
});

test('hpckv serve without a rank in the environment is a clear configuration error', async (t) => {
  const result = await run(['serve', '--group-dir', tmpdir(), '--data', tmpdir()],
    { HPCKV_RANK: '', HPCKV_SIZE: '', OMPI_COMM_WORLD_RANK: '', PMI_RANK: '', SLURM_PROCID: '' });
  t.is(result.code, 1);
  t.regex(result.stderr, /HPCKV_ERR_BAD_CONFIG: no rank\/size/);
});

test('the demo behind npm start runs a ParSplice campaign, checks it back and queries it server-side, and exits 0', async (t) => {
  const result = await run(['demo', '--servers', '2', '--workers', '2', '--seconds', '4']);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /spliced trajectory: [\d,]+ MD steps = [\d.]+ τ/);
  t.regex(result.stdout, /checked from the store: \d+ spliced segments continuous \(0 breaks\), 0 missing states, 0 overwritten/);
  t.regex(result.stdout, /server-side reduce over the states: \d+ states/);
  t.regex(result.stderr, /parsplice: 100%/);
});

test('hpckv mixed runs a verified mixed workload and exits 0', async (t) => {
  const result = await run(['mixed', '--servers', '2', '--ops', '1500']);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /verified \d+ keys against the model: all correct/);
  t.regex(result.stdout, /servers shut down cleanly/);
});

test('unknown commands and flags print usage and exit 2', async (t) => {
  const unknown = await run(['frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command frobnicate/);
  const badFlag = await run(['get', '--nope']);
  t.is(badFlag.code, 2);
});

test('servers of an embedded group shut down when their launcher dies, even by SIGKILL', async (t) => {
  const { RpcClient } = await import('../../core/rpc/rpc-client.js');
  const { resolveLimits } = await import('../../core/limits.js');
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-orphan-'));
  const launch = start(['launch', '--servers', '2', '--dir', dir]);
  const ready = await launch.line(/group file: /);
  const group = await readGroupFile(ready.slice(ready.indexOf('group file: ') + 'group file: '.length).trim());
  const connections = await Promise.all(group.servers.map((s) => RpcClient.connect(s.address, resolveLimits())));
  const closed = connections.map((c) => new Promise<string>((resolve) => c.onClose((error) => resolve(error.code))));
  t.deepEqual(await Promise.all(connections.map((c) => c.call('hello', {}).then((h) => (h as { rank: number }).rank))), [0, 1]);
  launch.child.kill('SIGKILL');
  // Each server drains and closes its connections on its own: nobody asked it to.
  t.deepEqual(await Promise.all(closed), ['HPCKV_ERR_CONNECTION_CLOSED', 'HPCKV_ERR_CONNECTION_CLOSED']);
  await launch.done;
  await rm(dir, { recursive: true, force: true });
});

test('hpckv exec runs a filter and a reduce next to the data and prints the results', async (t) => {
  const { writeFile } = await import('node:fs/promises');
  const { launchLocalGroup } = await import('../../server/launcher.js');
  const { Client } = await import('../../client/client.js');
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-cli-exec-'));
  const group = await launchLocalGroup({ servers: 2, dir });
  const client = await Client.open(group.groupFile);
  await client.putMany(Array.from({ length: 50 }, (_, i) => [`k${String(i).padStart(2, '0')}`, String(i)] as const));
  await client.close();
  const filter = join(dir, 'filter.js');
  await writeFile(filter, '(key, value, args) => Number(hpckv.utf8(value)) % args.every === 0\n');
  const reduce = join(dir, 'sum.js');
  await writeFile(reduce, '({ init: () => 0, step: (acc, key, value) => acc + Number(hpckv.utf8(value)), combine: (a, b) => a + b })\n');
  const matches = await run(['exec', '--group', group.groupFile, '--filter', filter, '--args', '{"every":10}', '--gte', 'k05']);
  t.is(matches.code, 0, matches.stderr);
  t.is(matches.stdout, 'k10\t10\nk20\t20\nk30\t30\nk40\t40\n');
  const sum = await run(['exec', '--group', group.groupFile, '--reduce', reduce]);
  t.is(sum.code, 0, sum.stderr);
  t.is(sum.stdout, `${(49 * 50) / 2}\n`);
  const usage = await run(['exec', '--group', group.groupFile]);
  t.is(usage.code, 2);
  await group.stop();
  await rm(dir, { recursive: true, force: true });
});
