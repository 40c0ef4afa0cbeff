import test from 'ava';
import { watch } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCodes } from '../../core/errors.js';
import { readGroupFile } from '../../core/group-file.js';
import { launchedGroupFile, runCli as run, startCli as start } from '../support/cli-process.js';

test('hpckv launch serves a group; put/get/del/stat work from the CLI; Ctrl-C stops every server', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-cli-'));
  const launch = start(['launch', '--servers', '3', '--dir', dir]);
  const groupFile = await launchedGroupFile(launch);
  t.is((await readGroupFile(groupFile)).servers.length, 3);
  // The ranks' meeting place is gone once the group formed.
  t.deepEqual((await readdir(dir)).filter((name) => name.startsWith('rendezvous-')), []);
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
  t.regex(ended.stdout, /^stopped all 3 servers$/m);
  t.is(ended.stderr, '', 'no server exited by itself');
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

/** Resolves once `path` no longer exists (on the directory's change events, not by polling). */
function removal(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dirname(path));
    const check = (): void => {
      access(path).then(() => undefined, () => {
        watcher.close();
        resolve();
      });
    };
    watcher.on('change', check);
    watcher.on('error', reject);
    check();
  });
}

/** A group file of a previous run: valid, naming an address nobody serves. */
const STALE_GROUP = {
  format: 1, service: 'hpckv', keyType: 'bytes', partition: { scheme: 'hash', virtualNodes: 256, seed: 0 }, epoch: 0, limits: {},
  servers: [{ rank: 0, address: 'tcp://127.0.0.1:9', databases: ['default'] }], createdAt: '2020-01-01T00:00:00.000Z',
};

for (const rendezvous of ['group directory', 'rank 0 address']) test(`hpckv serve forms a group from an mpirun environment (OMPI_COMM_WORLD_RANK/SIZE), meeting at the ${rendezvous}; rank 0 removes the previous group file at once and says when the new one is written`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-serve-'));
  const groupFile = join(dir, 'group.json');
  await writeFile(groupFile, JSON.stringify(STALE_GROUP));
  const extra = rendezvous === 'rank 0 address' ? ['--root-address', `tcp://127.0.0.1:${await freePort()}`] : [];
  const rank = (r: number): ReturnType<typeof start> => start(['serve', '--group-dir', dir, '--data', join(dir, 'data'), '--transport', 'tcp', ...extra], {
    OMPI_COMM_WORLD_RANK: String(r), OMPI_COMM_WORLD_SIZE: '2', HPCKV_RANK: '', HPCKV_SIZE: '', HPCKV_LAUNCH_ID: `t${process.pid}`,
  });
  const removed = removal(groupFile);
  const ranks = [rank(0)];
  await Promise.race([removed, ranks[0]!.done.then((r) => { throw new Error(`rank 0 exited ${r.code}: ${r.stderr}`); })]);
  // Rank 1 is not started yet, so the group is still forming: a client finds no group file, not the old one.
  const early = await run(['get', '--group', groupFile, 'k']);
  t.is(early.code, 1);
  t.is(early.stderr, `hpckv: ${ErrorCodes.GROUP_FILE}: group file ${groupFile} does not exist\n`);
  ranks.push(rank(1));
  t.is(await ranks[0]!.line(/group file written/), `hpckv group of 2 servers ready; group file written: ${groupFile}`);
  await Promise.all(ranks.map((r, i) => r.line(new RegExp(`rank ${i}/2 serving tcp://`))));
  const group = await readGroupFile(groupFile);
  t.deepEqual(group.servers.map((s) => s.rank), [0, 1]);
  t.true(group.servers.every((s) => s.address.startsWith('tcp://127.0.0.1:')));
  t.deepEqual((await readdir(dir)).filter((name) => name.startsWith('rendezvous-')), [], 'no rendezvous directory is left behind');
  t.is((await run(['put', '--group', groupFile, 'k', 'v'])).code, 0);
  t.is((await run(['get', '--group', groupFile, 'k'])).stdout, 'v\n');
  for (const r of ranks) r.child.kill('SIGTERM');
  const exits = await Promise.all(ranks.map((r) => r.done));
  t.deepEqual(exits.map((e) => e.code), [0, 0]);
  t.notRegex(exits[1]!.stdout, /group file written/, 'only rank 0 writes the group file and says so');
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

test('a usage error is one line and which help to read, exit 2; help, help CMD, CMD --help and --version answer, exit 0', async (t) => {
  const unknown = await run(['frobnicate']);
  t.is(unknown.code, 2);
  t.is(unknown.stderr, 'hpckv: unknown command frobnicate\nrun "hpckv help" for usage\n');
  const badFlag = await run(['get', '--nope']);
  t.is(badFlag.code, 2);
  t.deepEqual(badFlag.stderr.split('\n').slice(1), ['run "hpckv help get" for usage', '']);
  t.regex(badFlag.stderr, /^hpckv: Unknown option '--nope'/);
  const notMine = await run(['get', '--servers', '3', '--group', 'g.json', 'k']);
  t.is(notMine.stderr, 'hpckv: get does not take --servers\nrun "hpckv help get" for usage\n');
  const missing = await run(['put', '--group', 'g.json', 'k']);
  t.is(missing.stderr, 'hpckv: put takes KEY VALUE, got 1 argument\nrun "hpckv help put" for usage\n');
  const noFilter = await run(['exec', '--group', 'g.json', '--filter', '/nonexistent/filter.js']);
  t.is(noFilter.code, 2);
  t.is(noFilter.stderr, 'hpckv: cannot read --filter file /nonexistent/filter.js (ENOENT)\nrun "hpckv help exec" for usage\n');

  const manifest = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.deepEqual(await run(['--version']), { code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  const overview = await run(['help']);
  t.is(overview.code, 0);
  for (const command of ['launch', 'serve', 'shutdown', 'put', 'get', 'del', 'where', 'scan', 'count', 'first', 'last', 'next', 'prev', 'stat', 'exec', 'bench']) {
    t.regex(overview.stdout, new RegExp(`^  ${command} +\\S`, 'm'), command);
  }
  t.regex(overview.stdout, /^Exit status: 0 ok; 1 not found, or the operation failed; 2 usage error\.$/m);
  const launchHelp = await run(['help', 'launch']);
  t.is(launchHelp.code, 0);
  t.regex(launchHelp.stdout, /^hpckv launch --servers N --dir DIR/);
  t.regex(launchHelp.stdout, /\[--limits JSON\]/);
  t.regex(launchHelp.stdout, /--split-points/);
  t.deepEqual(await run(['scan', '--help']), { ...await run(['help', 'scan']), stderr: '' });
  const benchHelp = await run(['bench', '--help']);
  t.is(benchHelp.code, 0, benchHelp.stderr);
  t.regex(benchHelp.stdout, /^hpckv bench \[--quick\] \[--servers N\]/);
  t.is((await run(['help', 'bench'])).stdout, benchHelp.stdout);
  const noHelp = await run(['help', 'frobnicate']);
  t.is(noHelp.code, 2);
});

test('hpckv launch refuses an unknown limit once, before any server starts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-cli-limits-'));
  const result = await run(['launch', '--servers', '2', '--dir', dir, '--limits', '{"noSuchLimitMs": 5}']);
  t.is(result.code, 1);
  t.is(result.stderr, 'hpckv: HPCKV_ERR_BAD_CONFIG: unknown limit "noSuchLimitMs"\n');
  t.deepEqual(await readdir(dir), [], 'no server was started');
  await rm(dir, { recursive: true, force: true });
});

test('servers of an embedded group shut down when their launcher dies, even by SIGKILL', async (t) => {
  const { RpcClient } = await import('../../core/rpc/rpc-client.js');
  const { resolveLimits } = await import('../../core/limits.js');
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-orphan-'));
  const launch = start(['launch', '--servers', '2', '--dir', dir]);
  const group = await readGroupFile(await launchedGroupFile(launch));
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
