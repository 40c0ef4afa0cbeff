import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { Client } from '../client/client.js';
import type { PartitionSpec } from '../core/group-file.js';
import { RangeTable } from '../partition/range-table.js';
import { withLocalGroup } from '../examples/local-group.js';
import type { BenchReport, BenchRow } from './bench-report.js';
import { machineInfo } from './machine.js';
import { percentile, secondsSince } from './stats.js';

/**
 * `npm run bench:scan`: an ordered scan of every record across the servers of a group against
 * a raw classic-level iterator (highWaterMarkBytes tuned) over the same records on the same
 * machine, and the latency of one NEXT step against a raw one-entry seek.
 */

const RAW_HIGH_WATER_MARK_BYTES = 1024 * 1024;

function keyOf(i: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigUInt64BE(BigInt(i));
  return key;
}

export type ScanBenchPartition = 'hash' | 'range';

export interface ScanBenchOptions {
  servers: number;
  records: number;
  valueBytes: number;
  transport: 'unix' | 'tcp';
  /** Groups to measure: hash (servers merged) and/or range (servers read in key order). */
  partitions: readonly ScanBenchPartition[];
}

/** Scans every record of a bytes store through the client in key order (checked), counting records and bytes of keys and values. */
export async function orderedScan(client: Client): Promise<{ records: number; keyValueBytes: number }> {
  let records = 0;
  let keyValueBytes = 0;
  let previous: Buffer | undefined;
  for await (const [entryKey, value] of client.iterate()) {
    const key = entryKey as Buffer; // a bytes store: keys come back as their bytes
    if (previous !== undefined && Buffer.compare(previous, key) >= 0) throw new Error('scan out of order');
    previous = key;
    records++;
    keyValueBytes += key.length + value!.length;
  }
  return { records, keyValueBytes };
}

export async function runScanBench(options: ScanBenchOptions): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  for (const partition of options.partitions) rows.push(...await measurePartition(options, partition));
  return { machine: machineInfo(), servers: options.servers, transport: options.transport, startedAt: new Date().toISOString(), rows };
}

/** The group's partition spec: a range table with equal shares of the bench's keys. */
function partitionSpec(partition: ScanBenchPartition, options: ScanBenchOptions): PartitionSpec | undefined {
  if (partition === 'hash') return undefined;
  const sample = Array.from({ length: options.records }, (_, i) => keyOf(i));
  return RangeTable.fromSample(sample, options.servers).toSpec();
}

async function measurePartition(options: ScanBenchOptions, partition: ScanBenchPartition): Promise<BenchRow[]> {
  const spec = partitionSpec(partition, options);
  const rows: BenchRow[] = [];
  await withLocalGroup('scan-bench', { servers: options.servers, transport: options.transport,
    ...(spec === undefined ? {} : { partition: spec }) }, async ({ client, dir }) => {
    const raw = new ClassicLevel<Buffer, Buffer>(join(dir, 'raw'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    try {
      process.stderr.write(`${partition} group: loading ${options.records} records of ${options.valueBytes} B ...\n`);
      for (let b = 0; b < options.records; b += 1000) {
        const entries = Array.from({ length: Math.min(1000, options.records - b) }, (_, j) => [keyOf(b + j), Buffer.alloc(options.valueBytes, j & 0xff)] as const);
        await raw.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })));
        await client.putMany(entries);
      }
      const scans = { raw: 0, ours: 0 };
      for (let round = 0; round < 2; round++) {
        let start = process.hrtime.bigint();
        let seen = 0;
        for await (const [key] of raw.iterator({ highWaterMarkBytes: RAW_HIGH_WATER_MARK_BYTES })) { if (key.length > 0) seen++; }
        scans.raw = Math.max(scans.raw, seen / secondsSince(start));
        if (seen !== options.records) throw new Error(`raw scan saw ${seen}`);
        start = process.hrtime.bigint();
        seen = (await orderedScan(client)).records;
        scans.ours = Math.max(scans.ours, seen / secondsSince(start));
        if (seen !== options.records) throw new Error(`hpckv scan saw ${seen}`);
      }
      const how = partition === 'hash' ? 'servers merged' : 'servers in key order';
      rows.push({ id: `scan-all-${partition}`, what: `ordered scan of ${options.records} × ${options.valueBytes} B, ${partition} group of ${options.servers} (${how}) vs raw iterator (highWaterMarkBytes ${RAW_HIGH_WATER_MARK_BYTES})`,
        value: scans.ours, unit: 'records/s', baseline: scans.raw, ratio: scans.ours / scans.raw });
      const steps = Math.min(2000, options.records);
      const rawSteps: number[] = [];
      const ourSteps: number[] = [];
      for (let s = 0; s < steps; s++) {
        const key = keyOf((s * 7919) % options.records);
        let start = process.hrtime.bigint();
        const it = raw.iterator({ gt: key, limit: 1 });
        await it.next();
        await it.close();
        rawSteps.push(Number(process.hrtime.bigint() - start) / 1000);
        start = process.hrtime.bigint();
        await client.next(key);
        ourSteps.push(Number(process.hrtime.bigint() - start) / 1000);
      }
      rawSteps.sort((a, b) => a - b);
      ourSteps.sort((a, b) => a - b);
      const asks = partition === 'hash' ? 'asks every server' : 'asks the owner';
      rows.push({ id: `next-step-${partition}`, what: `one NEXT step, ${partition} group (${asks}) vs a raw one-entry seek: p50 latency`,
        value: percentile(ourSteps, 50), unit: 'µs (p50)', baseline: percentile(rawSteps, 50), ratio: percentile(rawSteps, 50) / percentile(ourSteps, 50),
        extra: { p99: percentile(ourSteps, 99), rawP99: percentile(rawSteps, 99) } });
    } finally {
      await raw.close();
    }
  });
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    json: { type: 'string' }, servers: { type: 'string' }, records: { type: 'string' }, quick: { type: 'boolean' }, transport: { type: 'string' },
    partition: { type: 'string' },
  } });
  const partitions: ScanBenchPartition[] = values.partition === undefined ? ['hash', 'range'] : [values.partition as ScanBenchPartition];
  if (!partitions.every((p) => p === 'hash' || p === 'range')) throw new TypeError('--partition is hash or range');
  const { formatTable } = await import('./bench-report.js');
  const report = await runScanBench({
    servers: Number(values.servers ?? 2), records: Number(values.records ?? (values.quick ? 20_000 : 200_000)), valueBytes: 100,
    transport: values.transport === 'tcp' ? 'tcp' : 'unix', partitions,
  });
  process.stdout.write(formatTable(report).replace('hpckv kv bench', 'hpckv scan bench') + '\n');
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
