// The network-shaped bench: a tiny section over a shaped veth link between two namespaces, its
// rows' structure (never its timings), and that no namespace outlives a run, a crash or SIGINT.
import test, { type ExecutionContext } from 'ava';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseLinkRate } from '../../../bench/network/link-rate.js';
import { benchNamespaces, networkUnavailableReason, removeStaleNamespaces } from '../../../bench/network/netns.js';
import { NETWORK_ROW_IDS } from '../../../bench/network/network-rows.js';
import { networkSection } from '../../../bench/network/network-section.js';

/** Root, iproute2 and working namespaces, or why not: without them each test is registered as skipped with the reason in its title. */
const NETWORK_SKIP_REASON = await networkUnavailableReason();

function networkTest(title: string, run: (t: ExecutionContext) => Promise<void>): void {
  if (NETWORK_SKIP_REASON === undefined) test.serial(title, run);
  else test.skip(`${title} [skipped: ${NETWORK_SKIP_REASON}]`, () => undefined);
}

/** The pids the group files under `dir` name: the servers a killed run left to shut themselves down. */
async function groupServerPids(dir: string): Promise<number[]> {
  const files = (await readdir(dir, { recursive: true })).filter((path) => path.endsWith('group.json'));
  const pids: number[] = [];
  for (const file of files) {
    const group = JSON.parse(await readFile(join(dir, file), 'utf8')) as { servers: Array<{ pid?: number }> };
    for (const server of group.servers) if (server.pid !== undefined) pids.push(server.pid);
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once none of `pids` is alive (they are not our children: no exit event reaches us, so we look every 20 ms). */
async function gone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`servers ${pids.filter(alive).join(', ')} still alive after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ownNamespaces = async (pid: number): Promise<string[]> => (await benchNamespaces()).filter((name) => name.startsWith(`hpckv-bench-${pid}-`));

networkTest('a tiny network section at 1gbit: every row with its anchors, the filter brings the client far fewer bytes, no namespace left', async (t) => {
  const notes: string[] = [];
  const rows = await networkSection(parseLinkRate('1gbit'), { bulkRecords: 2000, regionRecords: 2000, filterRecords: 10_000, probeSeconds: 0.1 }, notes);
  t.deepEqual(rows.map((row) => row.id), [...NETWORK_ROW_IDS]);
  for (const row of rows) {
    t.is(row.section, 'network');
    t.true(row.value > 0 && Number.isFinite(row.value), row.id);
    t.true(row.anchors.length > 0 && row.anchors.every((anchor) => anchor.value > 0 && anchor.ratio > 0 && Number.isFinite(anchor.ratio)), row.id);
  }
  const byId = new Map(rows.map((row) => [row.id, row]));
  t.deepEqual(byId.get('net-link-download')!.anchors.map((a) => [a.name, a.value]), [['tbf rate', 1000]]);
  for (const id of ['net-bulk-put-4KiB', 'net-bulk-get-4KiB']) {
    t.deepEqual(byId.get(id)!.anchors.map((a) => a.name), ['link-bound (stream bytes/s ÷ record bytes)', 'the same on an unshaped loopback TCP group'], id);
  }
  t.deepEqual(byId.get('net-region-put-4KiB')!.anchors.map((a) => a.name), ['putMany']);
  t.is(byId.get('net-filter-server-side')!.extra?.['matches'], 100, '1% of 10k records');
  const bytes = byId.get('net-filter-bytes-to-client')!;
  t.is(bytes.unit, 'bytes');
  t.false(bytes.higherIsBetter);
  t.true(bytes.value * 50 < bytes.anchors[0]!.value, `execute brought ${bytes.value} bytes, fetch ${bytes.anchors[0]!.value}`);
  t.true(bytes.extra!['key+value bytes, execute']! * 50 < bytes.extra!['key+value bytes, fetch']!);
  t.is(notes.length, 1);
  t.regex(notes[0]!, /^network 1gbit: the server-side 1% filter is [\d.]+x .* fewer bytes to the client/);
  t.deepEqual(await ownNamespaces(process.pid), []);
});

networkTest('namespaces a dead run left are removed; a live run\'s are kept', async (t) => {
  const dead = spawn(process.execPath, ['-e', '']);
  await once(dead, 'close');
  const run = promisify(execFile);
  const stale = `hpckv-bench-${dead.pid!}-abcdef-srv`;
  const live = `hpckv-bench-${process.pid}-abcdef-cli`;
  await run('ip', ['netns', 'add', stale]);
  await run('ip', ['netns', 'add', live]);
  t.teardown(() => run('ip', ['netns', 'del', live]).catch(() => undefined));
  t.teardown(() => run('ip', ['netns', 'del', stale]).catch(() => undefined));
  t.true((await removeStaleNamespaces()).includes(stale));
  const left = await benchNamespaces();
  t.false(left.includes(stale));
  t.true(left.includes(live));
});

networkTest('SIGINT during the network section deletes its namespaces', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'hpckv-network-test-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const suite = fileURLToPath(new URL('../../../bench/suite/suite-main.js', import.meta.url));
  // Killed, it cannot remove its groups' directories: they go under `out`, which the teardown removes.
  const child = spawn(process.execPath, ['--no-node-snapshot', suite, '--quick', '--only', 'network', '--network', '1gbit', '--out', out],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: out } });
  const exited = once(child, 'exit');
  // The client's first words come once the link, the servers and the probe are up.
  for await (const line of createInterface({ input: child.stderr })) {
    if (line.startsWith('network client:')) break;
  }
  child.stderr.resume(); // the rest of its words, and its children's, unread
  t.true((await ownNamespaces(child.pid!)).length === 2, 'its two namespaces exist while it runs');
  child.kill('SIGINT');
  const [, signal] = await exited as [number | null, NodeJS.Signals | null];
  t.is(signal, 'SIGINT');
  t.deepEqual(await ownNamespaces(child.pid!), []);
  // Its servers see their parent gone and close cleanly, which writes into their data directories:
  // removing `out` before they are gone races those writes (ENOTEMPTY).
  const servers = await groupServerPids(out);
  t.true(servers.length > 0, 'its groups\' files name their servers');
  await gone(servers, 30_000);
});
