import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { launchLocalGroup } from '../../server/launcher.js';
import { medianAndRange, percentile, type Range } from '../stats.js';
import { ownCpuUs, processCpuUs } from './process-cpu.js';
import { BULK_RECORDS, freshKeys, IN_FLIGHT, values, type Scenario } from './request-shapes.js';

/** What the end-to-end runs need of a client: the calls they time, and a way to stop the group. */
export interface KvClient {
  put(key: Buffer, value: Buffer): Promise<unknown>;
  get(key: Buffer): Promise<unknown>;
  putMany(entries: ReadonlyArray<readonly [Buffer, Buffer]>): Promise<unknown>;
  shutdownServers(): Promise<unknown>;
  close(): Promise<unknown>;
}

/** A build of hpckv to measure end to end: this checkout, or another build's dist (the "before"). */
export interface KvBuild {
  label: string;
  launch(dir: string): Promise<{ groupFile: string; serverPid: number; exited: Promise<void> }>;
  open(groupFile: string): Promise<KvClient>;
}

interface LaunchedGroup { groupFile: string; processes: ReadonlyArray<{ pid?: number | undefined }>; exited: Promise<void> }
type LaunchLocalGroup = (options: { servers: number; dir: string; transport: 'unix' }) => Promise<LaunchedGroup>;

function buildOf(label: string, launchGroup: LaunchLocalGroup, open: (groupFile: string) => Promise<KvClient>): KvBuild {
  return {
    label, open,
    launch: async (dir) => {
      const group = await launchGroup({ servers: 1, dir, transport: 'unix' });
      const pid = group.processes[0]?.pid;
      if (pid === undefined) throw new Error(`${label}: the server process has no pid`);
      return { groupFile: group.groupFile, serverPid: pid, exited: group.exited };
    },
  };
}

export function currentBuild(): KvBuild {
  return buildOf('now', launchLocalGroup, (groupFile) => Client.open(groupFile));
}

/** The build in `dist` (e.g. an older checkout's compiled output); only its launcher and client are used. */
export async function buildFromDist(dist: string): Promise<KvBuild> {
  const launcher = await import(pathToFileURL(join(dist, 'server', 'launcher.js')).href) as { launchLocalGroup: LaunchLocalGroup };
  const client = await import(pathToFileURL(join(dist, 'client', 'client.js')).href) as { Client: { open(groupFile: string): Promise<KvClient> } };
  return buildOf('before', launcher.launchLocalGroup, (groupFile) => client.Client.open(groupFile));
}

export interface EndToEndCounts {
  /** Single operations per round with one in flight (five times as many with 64 in flight). */
  ops: number;
  /** putMany calls of 1000 × 4 KiB per round (four times as many of 1000 × 64 B). */
  bulkCalls: number;
}

/** One round of one scenario. */
export interface EndToEndRound {
  /** The headline: p50 µs (1 in flight), ops/s (64 in flight) or p50 ms per call (bulk). */
  figure: number;
  /**
   * Mean wall time per op (or per call), in µs: the mean latency one at a time, 1 / throughput
   * with 64 in flight. The stage rows are means too, so this is what their sum compares with
   * (a p50 leaves out LevelDB's write stalls, which the means include).
   */
  wallUsPerOp: number;
  clientCpuUsPerOp: number;
  serverCpuUsPerOp: number;
}

export interface EndToEndResult {
  figure: number;
  figureUnit: string;
  wallUsPerOp: number;
  clientCpuUsPerOp: number;
  serverCpuUsPerOp: number;
  /** Range of the figure over the rounds. */
  figureRange: Range;
  rounds: EndToEndRound[];
}

export function figureUnit(scenario: Scenario): string {
  if (scenario.kind === 'bulk') return 'ms per call (p50)';
  return scenario.inFlight === 1 ? 'µs (p50)' : 'ops/s';
}

function opsOf(scenario: Scenario, counts: EndToEndCounts): number {
  if (scenario.kind === 'bulk') return scenario.valueBytes >= 4096 ? counts.bulkCalls : counts.bulkCalls * 4;
  return scenario.inFlight === 1 ? counts.ops : counts.ops * 5;
}

/** Keys the gets read, stored once per group before any round. */
export function storedKeyCount(counts: EndToEndCounts): number {
  return Math.min(20_000, counts.ops * 5);
}

export async function preloadGets(client: KvClient, keys: readonly Buffer[], valueBytes: number): Promise<void> {
  const vals = values(BULK_RECORDS, valueBytes);
  for (let at = 0; at < keys.length; at += BULK_RECORDS) {
    await client.putMany(keys.slice(at, at + BULK_RECORDS).map((key, i) => [key, vals[i]!] as const));
  }
}

/**
 * Runs one round of a scenario against a group and measures it: wall time as the scenario's
 * figure, and the CPU time of the client (this process) and of the server process per op.
 */
export async function runRound(client: KvClient, serverPid: number, scenario: Scenario, counts: EndToEndCounts,
  storedKeys: readonly Buffer[]): Promise<EndToEndRound> {
  const ops = opsOf(scenario, counts);
  const work = prepare(client, scenario, ops, storedKeys);
  const clientBefore = ownCpuUs();
  const serverBefore = processCpuUs(serverPid);
  const start = process.hrtime.bigint();
  const latencies = await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const clientCpuUsPerOp = (ownCpuUs() - clientBefore) / ops;
  const serverCpuUsPerOp = (processCpuUs(serverPid) - serverBefore) / ops;
  if (latencies === null) {
    const opsPerS = ops / seconds;
    return { figure: opsPerS, wallUsPerOp: 1e6 / opsPerS, clientCpuUsPerOp, serverCpuUsPerOp };
  }
  const mean = latencies.reduce((total, value) => total + value, 0) / latencies.length;
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  return { figure: scenario.kind === 'bulk' ? p50 / 1000 : p50, wallUsPerOp: mean, clientCpuUsPerOp, serverCpuUsPerOp };
}

/**
 * The round's work, with its keys and entries made beforehand (so making them is not measured):
 * returns latencies in µs (one at a time) or null (64 in flight: throughput only). Puts write new keys.
 */
function prepare(client: KvClient, scenario: Scenario, ops: number, storedKeys: readonly Buffer[]): () => Promise<number[] | null> {
  if (scenario.kind === 'bulk') {
    const vals = values(scenario.records, scenario.valueBytes);
    const calls = freshKeys(ops, scenario.records).map((keys) => keys.map((key, i) => [key, vals[i]!] as const));
    return () => oneAtATime(calls.length, (i) => client.putMany(calls[i]!));
  }
  const value = values(1, scenario.valueBytes)[0]!;
  const keys = scenario.kind === 'put' ? freshKeys(1, ops)[0]! : Array.from({ length: ops }, (_, i) => storedKeys[(i * 7919) % storedKeys.length]!);
  const op = scenario.kind === 'put' ? (i: number) => client.put(keys[i]!, value) : (i: number) => client.get(keys[i]!);
  if (scenario.inFlight === 1) return () => oneAtATime(ops, op);
  return async () => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ops) await op(next++);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    return null;
  };
}

async function oneAtATime(count: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await op(i);
    latencies[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  return latencies;
}

/** The median of each measure over the rounds (a round a neighbour slowed down does not move it). */
export function summarise(scenario: Scenario, rounds: EndToEndRound[]): EndToEndResult {
  const median = (pick: (round: EndToEndRound) => number): number => medianAndRange(rounds.map(pick)).median;
  return {
    figure: median((r) => r.figure), figureUnit: figureUnit(scenario), wallUsPerOp: median((r) => r.wallUsPerOp),
    clientCpuUsPerOp: median((r) => r.clientCpuUsPerOp), serverCpuUsPerOp: median((r) => r.serverCpuUsPerOp),
    figureRange: medianAndRange(rounds.map((r) => r.figure)).range, rounds,
  };
}

/** Results of every build (by label) and scenario (by id). */
export type EndToEndResults = Record<string, Record<string, EndToEndResult>>;

/**
 * Every scenario end to end against a 1-server group of each build (over a Unix socket), the
 * builds' groups up side by side and taking turns round by round, scenario by scenario, so a
 * noisy moment lands on both alike. Each figure is the median of the rounds. `beforeRound` runs at
 * the start of each round (the transport floor is measured there, under the same load).
 */
export async function runEndToEnd(builds: readonly KvBuild[], scenarios: readonly Scenario[], counts: EndToEndCounts,
  rounds: number, dir: string, beforeRound: (round: number) => Promise<void> = async () => undefined): Promise<EndToEndResults> {
  const groups: Array<{ build: KvBuild; client: KvClient; serverPid: number; exited: Promise<void> }> = [];
  const storedKeys = freshKeys(1, storedKeyCount(counts))[0]!;
  try {
    for (const build of builds) {
      const group = await build.launch(join(dir, `e2e-${build.label}`));
      const client = await build.open(group.groupFile);
      groups.push({ build, client, serverPid: group.serverPid, exited: group.exited });
      process.stderr.write(`end to end (${build.label}): storing ${storedKeys.length} records for the gets ...\n`);
      await preloadGets(client, storedKeys, 4096);
    }
    const measured = new Map<string, EndToEndRound[]>();
    for (let round = 0; round < rounds; round++) {
      await beforeRound(round);
      for (const scenario of scenarios) {
        for (const group of groups) {
          process.stderr.write(`end to end (${group.build.label}), round ${round + 1}/${rounds}: ${scenario.id} ...\n`);
          const key = `${group.build.label}/${scenario.id}`;
          measured.set(key, [...(measured.get(key) ?? []), await runRound(group.client, group.serverPid, scenario, counts, storedKeys)]);
        }
      }
    }
    const results: EndToEndResults = {};
    for (const { build } of groups) {
      results[build.label] = Object.fromEntries(scenarios.map((s) => [s.id, summarise(s, measured.get(`${build.label}/${s.id}`)!)]));
    }
    return results;
  } finally {
    for (const group of groups) {
      await group.client.shutdownServers().catch(() => undefined);
      await group.client.close();
      await group.exited;
    }
  }
}
