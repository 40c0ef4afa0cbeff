import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { withLocalGroup } from '../examples/local-group.js';
import { benchKey } from './bench-records.js';
import { bulkKeyBase, bulkRows, DEFAULT_ROUNDS } from './suite/kv-rows.js';
import { hpckvTarget, levelTarget } from './suite/kv-targets.js';
import { hpckvSetup } from './suite/suite-row.js';
import { formatTable, type BenchReport, type BenchRow } from './bench-report.js';
import { machineInfo } from './machine.js';
import { percentile, secondsSince } from './stats.js';

/**
 * `npm run bench:kv`: hpckv against raw classic-level on the same machine in the same run.
 * Throughput rows report records/s with ratio = hpckv / raw; latency rows report µs with
 * ratio = raw / hpckv (so above 1 is always "hpckv is better").
 */

const BATCH = 1000;

const keyOf = benchKey;

interface Sizes { label: string; bytes: number; records: number }

/** `count` gets over the `records` keys stored from `base` on, `window` of them outstanding at all times. */
async function inFlight(count: number, base: number, records: number, window: number, get: (key: Buffer) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = base + ((next++ * 7919) % records);
      if ((await get(keyOf(i))) === undefined) throw new Error(`key ${i} missing`);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return count / secondsSince(start);
}

/** One get at a time, raw and hpckv alternating per sample; latencies in µs, ascending. */
async function oneAtATimeSideBySide(samples: number, base: number, records: number, raw: (key: Buffer) => Promise<unknown>,
  ours: (key: Buffer) => Promise<unknown>): Promise<{ raw: number[]; ours: number[] }> {
  const latencies = { raw: [] as number[], ours: [] as number[] };
  for (let s = 0; s < samples; s++) {
    const key = keyOf(base + ((s * 7919) % records));
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
  const scale = options.quick ? 0.25 : 1;
  const sizes: Sizes[] = [
    { label: '4KiB', bytes: 4096, records: Math.round(20_000 * scale / BATCH) * BATCH },
    { label: '64B', bytes: 64, records: Math.round(200_000 * scale / BATCH) * BATCH },
  ];
  const rows: BenchRow[] = [];
  await withLocalGroup('bench', { servers: options.servers, transport: options.transport }, async ({ client, dir }) => {
    // A plain LevelDB (no sublevel prefixes), as an embedded application would use it.
    const raw = new ClassicLevel<Buffer, Buffer>(join(dir, 'raw'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    try {
      const targets = [hpckvTarget(client, 'default'), levelTarget(raw)];
      for (const size of sizes) {
        process.stderr.write(`bulk ${size.label}: ${size.records} records in batches of ${BATCH} ...\n`);
        // The suite's bulk rows (batches side by side, median of the rounds), against raw classic-level alone.
        for (const row of await bulkRows(targets, size.bytes, size.records, size.label, DEFAULT_ROUNDS, hpckvSetup(options.servers, options.transport))) {
          rows.push({ id: row.id, what: row.what, value: row.value, unit: row.unit, baseline: row.anchors[0]!.value, ratio: row.anchors[0]!.ratio });
        }
      }
      const records = sizes[0]!.records;
      const base = bulkKeyBase(sizes[0]!.bytes);
      const gets = options.quick ? 10_000 : 40_000;
      process.stderr.write(`single gets, 64 in flight: ${gets} ...\n`);
      // Two interleaved rounds each, best of two: one side's warm-up or compaction never lands on the other alone.
      let rawRate = 0;
      let ourRate = 0;
      for (let round = 0; round < 2; round++) {
        rawRate = Math.max(rawRate, await inFlight(gets / 2, base, records, 64, (key) => raw.get(key)));
        ourRate = Math.max(ourRate, await inFlight(gets / 2, base, records, 64, (key) => client.get(key)));
      }
      rows.push({ id: 'get-64-in-flight-4KiB', what: 'single get of 4 KiB, 64 in flight vs raw db.get, 64 in flight',
        value: ourRate, unit: 'gets/s', baseline: rawRate, ratio: ourRate / rawRate });
      const samples = options.quick ? 1000 : 5000;
      process.stderr.write(`one-at-a-time gets: ${samples} ...\n`);
      const { raw: rawLat, ours: ourLat } = await oneAtATimeSideBySide(samples, base, records,
        (key) => raw.get(key), (key) => client.get(key));
      const p50 = percentile(ourLat, 50);
      const rawP50 = percentile(rawLat, 50);
      rows.push({ id: 'get-one-at-a-time-4KiB', what: 'get of 4 KiB, one at a time: p50 latency vs raw await db.get',
        value: p50, unit: 'µs (p50)', baseline: rawP50, ratio: rawP50 / p50,
        extra: { p99: percentile(ourLat, 99), rawP99: percentile(rawLat, 99) } });
    } finally {
      await raw.close();
    }
  });
  return { machine: machineInfo(), servers: options.servers, transport: options.transport, startedAt: new Date().toISOString(), rows };
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
