import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launchLocalGroup, type LaunchOptions, type LocalGroup } from '../../server/launcher.js';
import type { SuiteRow } from '../suite/suite-row.js';
import type { LinkRate } from './link-rate.js';
import { networkClientArgs, type NetworkClientOptions, type NetworkMeasurements, type NetworkPart } from './network-client.js';
import { NETWORK_SERVERS, filterTargetNote, networkRows } from './network-rows.js';
import { networkUnavailableReason, openShapedLink, removeStaleNamespaces, type ShapedLink } from './netns.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('./network-client.js', import.meta.url));
const PROBE_SCRIPT = fileURLToPath(new URL('./stream-probe.js', import.meta.url));
const SERVERS = NETWORK_SERVERS;

/** How much the section moves. */
export interface NetworkSizes {
  bulkRecords: number;
  regionRecords: number;
  filterRecords: number;
  /** Seconds the stream probe streams each way at the nominal rate. */
  probeSeconds: number;
}

/**
 * Full: 20k × 4 KiB (82 MB) for bulk and region, as the region bench; 1M × ~256 B (~275 MB) for the
 * scan and the filter, the procedure bench's size, which fetching everything needs 2.3 s to move
 * at 1 Gbit/s. Quick: a tenth or a fifth of that.
 */
export function networkSizes(quick: boolean): NetworkSizes {
  return quick
    ? { bulkRecords: 4000, regionRecords: 4000, filterRecords: 100_000, probeSeconds: 0.5 }
    : { bulkRecords: 20_000, regionRecords: 20_000, filterRecords: 1_000_000, probeSeconds: 1.5 };
}

/** The command prefix that runs a command in a namespace (`ip netns exec` execs it in place: same pid, same file descriptors). */
function inNamespace(namespace: string): string[] {
  return ['ip', 'netns', 'exec', namespace];
}

function spawnNode(namespace: string, script: string, args: readonly string[], stdio: StdioOptions): ChildProcess {
  const [command, ...prefix] = inNamespace(namespace);
  return spawn(command!, [...prefix, process.execPath, '--no-node-snapshot', script, ...args], { stdio });
}

/** Runs the client script in `namespace` and returns what it printed as JSON; its progress goes to our stderr. */
async function runNetworkClient(namespace: string, options: NetworkClientOptions): Promise<NetworkMeasurements> {
  const child = spawnNode(namespace, CLIENT_SCRIPT, networkClientArgs(options), ['ignore', 'pipe', 'inherit']);
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  const [code, signal] = await once(child, 'close') as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`the network client in ${namespace} failed (code ${code}, signal ${signal})`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as NetworkMeasurements;
}

/** The stream probe's server in the servers' namespace; it exits when we close its stdin. */
async function startProbe(link: ShapedLink): Promise<{ port: number; child: ChildProcess }> {
  const child = spawnNode(link.serverNamespace, PROBE_SCRIPT, ['--host', link.serverAddress], ['pipe', 'pipe', 'inherit']);
  const exited = once(child, 'close').then(([code]) => { throw new Error(`the stream probe's server exited (code ${String(code)}) before it listened`); });
  const firstLine = once(createInterface({ input: child.stdout! }), 'line').then(([line]) => JSON.parse(String(line)) as { port: number });
  const { port } = await Promise.race([firstLine, exited]);
  exited.catch(() => undefined);
  return { port, child };
}

async function stopProbe(probe: { child: ChildProcess }): Promise<void> {
  const closed = once(probe.child, 'close');
  probe.child.stdin!.end();
  await closed;
}

async function withGroup<T>(options: Omit<LaunchOptions, 'dir' | 'servers'>, work: (group: LocalGroup) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-network-bench-'));
  try {
    const group = await launchLocalGroup({ servers: SERVERS, dir, transport: 'tcp', databases: ['default', 'kv'], ...options });
    try {
      return await work(group);
    } finally {
      await group.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The network section: servers in one namespace, the client in another, a veth pair between
 * them shaped to `rate`; the bulk rows also run against a loopback TCP group (no shaping) as an
 * anchor. Without root or working namespaces it returns no rows and says why in `notes`.
 */
export async function networkSection(rate: LinkRate, sizes: NetworkSizes, notes: string[]): Promise<SuiteRow[]> {
  const unavailable = await networkUnavailableReason();
  if (unavailable !== undefined) {
    notes.push(`network rows skipped: ${unavailable}`);
    process.stderr.write(`network rows skipped: ${unavailable}\n`);
    return [];
  }
  const stale = await removeStaleNamespaces();
  if (stale.length > 0) notes.push(`network: removed namespaces a crashed run left: ${stale.join(', ')}`);
  const parts: NetworkPart[] = ['probe', 'bulk', 'region', 'scan-filter'];
  const common = { bulkRecords: sizes.bulkRecords, regionRecords: sizes.regionRecords, filterRecords: sizes.filterRecords };
  const link = await openShapedLink(rate);
  let shaped: NetworkMeasurements;
  try {
    const servers = { host: link.serverAddress, commandPrefix: inNamespace(link.serverNamespace) };
    // The anchor group sits on the client namespace's own loopback, so the client can run the
    // bulk calls on both groups batch by batch in turn: a stall on the shared cores hits both.
    const onClientLoopback = { commandPrefix: inNamespace(link.clientNamespace) };
    shaped = await withGroup(servers, (group) => withGroup(onClientLoopback, async (loopbackGroup) => {
      const probe = await startProbe(link);
      try {
        return await runNetworkClient(link.clientNamespace, {
          groupFile: group.groupFile, loopbackGroupFile: loopbackGroup.groupFile, parts, interfaceName: link.interfaceName, ...common,
          probe: { host: link.serverAddress, port: probe.port, bytes: Math.round((rate.bitsPerSecond / 8) * sizes.probeSeconds) },
        });
      } finally {
        await stopProbe(probe);
      }
    }));
  } finally {
    await link.remove();
  }
  const note = filterTargetNote(rate, shaped);
  if (note !== undefined) notes.push(note);
  return networkRows(rate, shaped);
}
