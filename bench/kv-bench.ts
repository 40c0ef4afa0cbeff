import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { Client } from '../client/client.js';
import { launchLocalGroup } from '../server/launcher.js';
import { benchKey, benchValue } from './bench-records.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { percentile, secondsSince } from './stats.js';

/**
 * `npm run bench:kv`: hpckv against raw classic-level on the same machine in the same run.
 * Throughput rows report records/s with ratio = hpckv / raw; latency rows report µs with
 * ratio = raw / hpckv (so above 1 is always "hpckv is better").
 */

export interface BenchRow {
  id: string;
  what: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  extra?: Record<string, number>;
}

export interface BenchReport {
  machine: MachineInfo;
  servers: number;
  transport: string;
  startedAt: string;
  rows: BenchRow[];
}

const BATCH = 1000;

const keyOf = benchKey;
const valueOf = benchValue;

interface Sizes { label: string; bytes: number; records: number }

interface BulkRates { put: number; get: number }

/**
 * Bulk put then bulk get, raw classic-level and hpckv batch by batch in turn, each side timed
 * on its own. Interleaving keeps the comparison fair on a small machine: LevelDB's background
 * compactions (of either store) land on both sides alike instead of on whichever runs second.
 */
async function bulkSideBySide(raw: ClassicLevel<Buffer, Buffer>, client: Client, db: string, size: Sizes,
  firstKey: number): Promise<{ raw: BulkRates; ours: BulkRates }> {
  const keys = Array.from({ length: size.records }, (_, i) => keyOf(firstKey + i));
  const values = keys.map((_, i) => valueOf(firstKey + i, size.bytes));
  const ns = { rawPut: 0n, oursPut: 0n, rawGet: 0n, oursGet: 0n };
  for (let b = 0; b < size.records; b += BATCH) {
    const batchKeys = keys.slice(b, b + BATCH);
    let start = process.hrtime.bigint();
    await raw.batch(batchKeys.map((key, j) => ({ type: 'put' as const, key, value: values[b + j]! })));
    ns.rawPut += process.hrtime.bigint() - start;
    start = process.hrtime.bigint();
    await client.putMany(batchKeys.map((key, j) => [key, values[b + j]!] as const), { db });
    ns.oursPut += process.hrtime.bigint() - start;
  }
  let rawFound = 0;
  let oursFound = 0;
  for (let b = 0; b < size.records; b += BATCH) {
    const batchKeys = keys.slice(b, b + BATCH);
    let start = process.hrtime.bigint();
    rawFound += (await raw.getMany(batchKeys)).filter((v) => v !== undefined).length;
    ns.rawGet += process.hrtime.bigint() - start;
    start = process.hrtime.bigint();
    oursFound += (await client.getMany(batchKeys, { db })).filter((v) => v !== undefined).length;
    ns.oursGet += process.hrtime.bigint() - start;
  }
  if (rawFound !== size.records || oursFound !== size.records) {
    throw new Error(`bulk get found raw ${rawFound}, hpckv ${oursFound} of ${size.records}`);
  }
  const rate = (elapsed: bigint): number => size.records / (Number(elapsed) / 1e9);
  return { raw: { put: rate(ns.rawPut), get: rate(ns.rawGet) }, ours: { put: rate(ns.oursPut), get: rate(ns.oursGet) } };
}

/** `count` gets over the `records` stored keys, `window` of them outstanding at all times. */
async function inFlight(count: number, records: number, window: number, get: (key: Buffer) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = (next++ * 7919) % records;
      if ((await get(keyOf(i))) === undefined) throw new Error(`key ${i} missing`);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return count / secondsSince(start);
}

/** One get at a time, raw and hpckv alternating per sample; latencies in µs, ascending. */
async function oneAtATimeSideBySide(samples: number, records: number, raw: (key: Buffer) => Promise<unknown>,
  ours: (key: Buffer) => Promise<unknown>): Promise<{ raw: number[]; ours: number[] }> {
  const latencies = { raw: [] as number[], ours: [] as number[] };
  for (let s = 0; s < samples; s++) {
    const key = keyOf((s * 7919) % records);
    for (const [side, get] of [['raw', raw], ['ours', ours]] as const) {
      const start = process.hrtime.bigint();
      if ((await get(key)) === undefined) throw new Error('key missing');
      latencies[side].push(Number(process.hrtime.bigint() - start) / 1000);
    }
  }
  latencies.raw.sort((a, b) => a - b);
  latencies.ours.sort((a, b) => a - b);
  return latencies;
}

export async function runKvBench(options: { servers: number; quick: boolean; transport: 'unix' | 'tcp' }): Promise<BenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-bench-'));
  const scale = options.quick ? 0.25 : 1;
  const sizes: Sizes[] = [
    { label: '4KiB', bytes: 4096, records: Math.round(20_000 * scale / BATCH) * BATCH },
    { label: '64B', bytes: 64, records: Math.round(200_000 * scale / BATCH) * BATCH },
  ];
  const rows: BenchRow[] = [];
  // One plain LevelDB per value size (no sublevel prefixes), as an embedded application would use it.
  const raws = new Map<string, ClassicLevel<Buffer, Buffer>>();
  for (const size of sizes) {
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, `raw-${size.label}`), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    raws.set(size.label, db);
  }
  const group = await launchLocalGroup({
    servers: options.servers, dir: join(dir, 'group'), transport: options.transport,
    databases: sizes.map((s) => `bench-${s.label}`),
  });
  const client = await Client.open(group.groupFile);
  try {
    for (const size of sizes) {
      process.stderr.write(`bulk ${size.label}: ${size.records} records in batches of ${BATCH} ...\n`);
      // Best of two rounds (fresh keys each), as for every row: one round's stall (a compaction,
      // another process) should not decide the figure.
      const base: BulkRates = { put: 0, get: 0 };
      const ours: BulkRates = { put: 0, get: 0 };
      for (let round = 0; round < 2; round++) {
        const r = await bulkSideBySide(raws.get(size.label)!, client, `bench-${size.label}`, size, round * size.records);
        base.put = Math.max(base.put, r.raw.put);
        base.get = Math.max(base.get, r.raw.get);
        ours.put = Math.max(ours.put, r.ours.put);
        ours.get = Math.max(ours.get, r.ours.get);
      }
      rows.push({ id: `bulk-put-${size.label}`, what: `putMany of ${BATCH} × ${size.label} vs raw db.batch(${BATCH})`,
        value: ours.put, unit: 'records/s', baseline: base.put, ratio: ours.put / base.put });
      rows.push({ id: `bulk-get-${size.label}`, what: `getMany of ${BATCH} × ${size.label} vs raw db.getMany(${BATCH})`,
        value: ours.get, unit: 'records/s', baseline: base.get, ratio: ours.get / base.get });
    }
    const records = sizes[0]!.records;
    const rawSub = raws.get('4KiB')!;
    const gets = options.quick ? 10_000 : 40_000;
    process.stderr.write(`single gets, 64 in flight: ${gets} ...\n`);
    // Two interleaved rounds each, best of two: one side's warm-up or compaction never lands on the other alone.
    let rawRate = 0;
    let ourRate = 0;
    for (let round = 0; round < 2; round++) {
      rawRate = Math.max(rawRate, await inFlight(gets / 2, records, 64, (key) => rawSub.get(key)));
      ourRate = Math.max(ourRate, await inFlight(gets / 2, records, 64, (key) => client.get(key, { db: 'bench-4KiB' })));
    }
    rows.push({ id: 'get-64-in-flight-4KiB', what: 'single get of 4 KiB, 64 in flight vs raw db.get, 64 in flight',
      value: ourRate, unit: 'gets/s', baseline: rawRate, ratio: ourRate / rawRate });
    const samples = options.quick ? 1000 : 5000;
    process.stderr.write(`one-at-a-time gets: ${samples} ...\n`);
    const { raw: rawLat, ours: ourLat } = await oneAtATimeSideBySide(samples, records,
      (key) => rawSub.get(key), (key) => client.get(key, { db: 'bench-4KiB' }));
    const p50 = percentile(ourLat, 50);
    const rawP50 = percentile(rawLat, 50);
    rows.push({ id: 'get-one-at-a-time-4KiB', what: 'get of 4 KiB, one at a time: p50 latency vs raw await db.get',
      value: p50, unit: 'µs (p50)', baseline: rawP50, ratio: rawP50 / p50,
      extra: { p99: percentile(ourLat, 99), rawP99: percentile(rawLat, 99) } });
  } finally {
    await client.shutdownServers().catch(() => undefined);
    await client.close();
    await group.exited;
    for (const db of raws.values()) await db.close();
    await rm(dir, { recursive: true, force: true });
  }
  return { machine: machineInfo(), servers: options.servers, transport: options.transport, startedAt: new Date().toISOString(), rows };
}

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

export function formatTable(report: BenchReport): string {
  const header = ['row', 'hpckv', 'raw classic-level', 'unit', 'ratio'];
  const lines = report.rows.map((row) => [row.id, formatNumber(row.value), formatNumber(row.baseline), row.unit, row.ratio.toFixed(2) + 'x'
    + (row.extra?.['p99'] !== undefined ? `  (p99 ${formatNumber(row.extra['p99'])} vs ${formatNumber(row.extra['rawP99'] ?? NaN)})` : '')]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]): string => cells.map((cell, c) => (c === 0 || c === 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [
    `hpckv kv bench: ${report.servers} server(s) over ${report.transport}, ${report.machine.cores} cores (${report.machine.cpuModel}), node ${report.machine.node}`,
    fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt),
    'ratio = hpckv / raw for throughput, raw / hpckv for latency (above 1 means hpckv is better)',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    json: { type: 'string' }, servers: { type: 'string' }, quick: { type: 'boolean' }, transport: { type: 'string' },
  } });
  const transport = values.transport === 'tcp' ? 'tcp' : 'unix';
  const report = await runKvBench({ servers: Number(values.servers ?? 1), quick: values.quick === true, transport });
  process.stdout.write(formatTable(report) + '\n');
  if (values.json !== undefined) {
    await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`wrote ${values.json}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
