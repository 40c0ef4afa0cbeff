import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Client } from '../client/client.js';
import { packPairs, packedPairsBytes, unpackPairs } from '../core/regions/packed-pairs.js';
import type { RegionDescriptor } from '../core/regions/region-descriptor.js';
import { withLocalGroup } from '../examples/local-group.js';
import type { BenchReport, BenchRow } from './bench-report.js';
import { benchKey, benchValue } from './bench-records.js';
import { machineInfo } from './machine.js';

/**
 * `npm run bench:region`: client-memory operations against the bulk calls they replace, side by
 * side in one run: putFromRegion of a packed region of 1000 pairs vs putMany of the same 1000
 * pairs, and getIntoRegion of 1000 keys into a registered region vs getMany of them. Batches
 * alternate between the two so compactions land on both; best of two rounds, fresh keys each.
 * The packed regions are built and registered before timing, as an application that keeps its
 * data in the packed layout would have them (that is the point: no per-record encoding).
 */

const BATCH = 1000;
/** Operations outstanding in the windowed rows. */
const WINDOW = 4;

const keyOf = benchKey;
const valueOf = benchValue;

/** Records/s of each path in one round. */
export interface RegionRates { regionPut: number; bulkPut: number; regionGet: number; bulkGet: number }

/**
 * One round of `records` (a multiple of 2000) values of `bytes` in database `db`, keys from
 * `firstKey`: batches alternate between putFromRegion and putMany, then between getIntoRegion
 * and getMany.
 */
export async function regionVsBulkRound(client: Client, db: string, bytes: number, records: number, firstKey: number): Promise<RegionRates> {
  const batches = records / BATCH;
  const keys = Array.from({ length: records }, (_, i) => keyOf(firstKey + i));
  const values = keys.map((_, i) => valueOf(firstKey + i, bytes));
  // Half the batches go through regions, half through the bulk calls, alternating; keys differ.
  const regions: RegionDescriptor[] = [];
  for (let b = 0; b < batches; b += 2) {
    regions.push(await client.registerRegion(packPairs(keys.slice(b * BATCH, (b + 1) * BATCH).map((k, j) => [k, values[b * BATCH + j]!] as const)), 'r'));
  }
  const out = Buffer.alloc(packedPairsBytes(keys.slice(0, BATCH).map((k, j) => [k, values[j]!] as const)));
  const outRegion = await client.registerRegion(out, 'w');
  const ns = { regionPut: 0n, bulkPut: 0n, regionGet: 0n, bulkGet: 0n };
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    if (b % 2 === 0) {
      await (await client.putFromRegion(regions[b / 2]!, { db })).wait();
      ns.regionPut += process.hrtime.bigint() - start;
    } else {
      await client.putMany(keys.slice(b * BATCH, (b + 1) * BATCH).map((k, j) => [k, values[b * BATCH + j]!] as const), { db });
      ns.bulkPut += process.hrtime.bigint() - start;
    }
  }
  for (let b = 0; b < batches; b++) {
    const batchKeys = keys.slice(b * BATCH, (b + 1) * BATCH);
    const start = process.hrtime.bigint();
    if (b % 2 === 0) {
      await (await client.getIntoRegion(batchKeys, outRegion, { db })).wait();
      ns.regionGet += process.hrtime.bigint() - start;
      const first = unpackPairs(out)[0]!;
      if (first[1] === undefined || !first[1].equals(values[b * BATCH]!)) throw new Error(`getIntoRegion batch ${b} read a wrong value`);
    } else {
      const got = await client.getMany(batchKeys, { db });
      ns.bulkGet += process.hrtime.bigint() - start;
      if (got.some((v) => v === undefined)) throw new Error(`getMany batch ${b} missed keys`);
    }
  }
  for (const region of [...regions, outRegion]) client.deregisterRegion(region);
  const half = (records / 2);
  const rate = (elapsed: bigint): number => half / (Number(elapsed) / 1e9);
  return { regionPut: rate(ns.regionPut), bulkPut: rate(ns.bulkPut), regionGet: rate(ns.regionGet), bulkGet: rate(ns.bulkGet) };
}

/**
 * Puts with `window` operations outstanding, as the issue-then-poll model is meant to be used:
 * groups of `window` batches alternate between regions (all issued, then all waited for) and
 * putMany (all in flight at once), fresh keys each.
 */
async function windowedPuts(client: Client, db: string, bytes: number, records: number, firstKey: number, window: number): Promise<{ region: number; bulk: number }> {
  const batches = records / BATCH;
  const batch = (b: number): Array<readonly [Buffer, Buffer]> =>
    Array.from({ length: BATCH }, (_, j) => [keyOf(firstKey + b * BATCH + j), valueOf(firstKey + b * BATCH + j, bytes)] as const);
  const ns = { region: 0n, bulk: 0n };
  let regionRecords = 0;
  let bulkRecords = 0;
  for (let g = 0; g * window < batches; g++) {
    const group = Array.from({ length: Math.min(window, batches - g * window) }, (_, i) => g * window + i);
    if (g % 2 === 0) {
      const regions = await Promise.all(group.map((b) => client.registerRegion(packPairs(batch(b)), 'r')));
      const start = process.hrtime.bigint();
      const handles = [];
      for (const region of regions) handles.push(await client.putFromRegion(region, { db }));
      await Promise.all(handles.map((h) => h.wait()));
      ns.region += process.hrtime.bigint() - start;
      regionRecords += group.length * BATCH;
      for (const region of regions) client.deregisterRegion(region);
    } else {
      const entries = group.map(batch);
      const start = process.hrtime.bigint();
      await Promise.all(entries.map((e) => client.putMany(e, { db })));
      ns.bulk += process.hrtime.bigint() - start;
      bulkRecords += group.length * BATCH;
    }
  }
  return { region: regionRecords / (Number(ns.region) / 1e9), bulk: bulkRecords / (Number(ns.bulk) / 1e9) };
}

export async function runRegionBench(options: { servers: number; quick: boolean; transport: 'unix' | 'tcp' }): Promise<BenchReport> {
  const scale = options.quick ? 0.25 : 1;
  const sizes = [
    { label: '4KiB', bytes: 4096, records: Math.max(2, Math.round(20_000 * scale / BATCH)) * BATCH },
    { label: '64B', bytes: 64, records: Math.max(2, Math.round(200_000 * scale / BATCH)) * BATCH },
  ];
  const rows: BenchRow[] = [];
  await withLocalGroup('region-bench', { servers: options.servers, transport: options.transport,
    databases: sizes.map((s) => `bench-${s.label}`) }, async ({ client }) => {
    for (const size of sizes) {
      process.stderr.write(`regions ${size.label}: ${size.records} records in batches of ${BATCH} ...\n`);
      const best: RegionRates = { regionPut: 0, bulkPut: 0, regionGet: 0, bulkGet: 0 };
      for (let r = 0; r < 2; r++) {
        const rates = await regionVsBulkRound(client, `bench-${size.label}`, size.bytes, size.records, r * size.records);
        for (const k of Object.keys(best) as Array<keyof RegionRates>) best[k] = Math.max(best[k], rates[k]);
      }
      rows.push({ id: `region-put-${size.label}`, what: `putFromRegion of ${BATCH} × ${size.label} (packed region) vs putMany(${BATCH})`,
        value: best.regionPut, unit: 'records/s', baseline: best.bulkPut, ratio: best.regionPut / best.bulkPut });
      rows.push({ id: `region-get-${size.label}`, what: `getIntoRegion of ${BATCH} × ${size.label} (packed) vs getMany(${BATCH})`,
        value: best.regionGet, unit: 'records/s', baseline: best.bulkGet, ratio: best.regionGet / best.bulkGet });
      const windowed = { region: 0, bulk: 0 };
      for (let r = 0; r < 2; r++) {
        const rates = await windowedPuts(client, `bench-${size.label}`, size.bytes, size.records, (2 + r) * size.records, WINDOW);
        windowed.region = Math.max(windowed.region, rates.region);
        windowed.bulk = Math.max(windowed.bulk, rates.bulk);
      }
      rows.push({ id: `region-put-${size.label}-${WINDOW}-in-flight`, what: `putFromRegion, ${WINDOW} outstanding (issue, then poll) vs ${WINDOW} putMany in flight`,
        value: windowed.region, unit: 'records/s', baseline: windowed.bulk, ratio: windowed.region / windowed.bulk });
    }
  });
  return { machine: machineInfo(), servers: options.servers, transport: options.transport, startedAt: new Date().toISOString(), rows };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    json: { type: 'string' }, servers: { type: 'string' }, quick: { type: 'boolean' }, transport: { type: 'string' },
  } });
  const { formatTable } = await import('./bench-report.js');
  const report = await runRegionBench({
    servers: Number(values.servers ?? 1), quick: values.quick === true, transport: values.transport === 'tcp' ? 'tcp' : 'unix',
  });
  process.stdout.write(formatTable(report).replace('hpckv kv bench', 'hpckv region bench').replace('raw classic-level', 'bulk call') + '\n');
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
