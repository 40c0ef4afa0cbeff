import { ClassicLevel } from 'classic-level';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { machineInfo } from '../machine.js';
import type { LinkRate } from '../network/link-rate.js';
import { networkSection, networkSizes } from '../network/network-section.js';
import { runParspliceBench } from '../parsplice-bench.js';
import { runProcedureBench } from '../procedure-bench.js';
import { ProgressBar } from '../../examples/progress-bar.js';
import { runRegionBench } from '../region-bench.js';
import { runScanBench } from '../scan-bench.js';
import { startBareStore, type BareStore } from './bare-store.js';
import { withLocalGroup } from '../../examples/local-group.js';
import { bulkRows, loadBulkKeys, singleRows } from './kv-rows.js';
import { hpckvTarget, levelTarget, redisTarget, type KvTarget } from './kv-targets.js';
import { REDIS_INSTALL_HINT, redisServerInstalled, startRedis, type RunningRedis } from './redis-server.js';
import { htmlReport, markdownTable, plots, type SuiteReport } from './report.js';
import { scalingRows } from './scaling-rows.js';
import { fromBenchReport, hpckvSetup, serverlessSetup, type RowSetup, type SuiteRow, type Transport } from './suite-row.js';

export interface SuiteOptions {
  quick: boolean;
  /** Servers of the bulk and single rows' group. */
  servers: number;
  /** How clients reach the servers in the bulk, single, scan, region and scaling sections. */
  transport: Transport;
  /** Rounds of the bulk and single rows: each figure is the median over them. */
  rounds: number;
  valueSizes: number[];
  /** Records of the bulk rows at the smallest value size (larger sizes get proportionally fewer). */
  records: number;
  /** Run only the sections (or rows) named: a section name or a row id. */
  only: string[];
  outDir: string;
  command: string;
  /** Adds the network section, its link shaped to this rate (`--network`). */
  network?: LinkRate;
}

interface Section {
  name: string;
  /** Ids of the rows it reports (a prefix ending in '*' matches many). */
  rows: string[];
  run(context: SectionContext): Promise<SuiteRow[]>;
}

interface SectionContext {
  options: SuiteOptions;
  notes: string[];
}

/**
 * Single operations of each target per round and row, and the keys the gets read (without
 * --quick). 5,000 (it was 10,000 when the suite kept the best of 2 rounds) keeps 3 rounds within
 * the suite's time (see DEFAULT_RECORDS in suite-main.ts); each round still takes 0.5-1 s of hpckv
 * per row, and its p99 is still the 50 slowest operations.
 */
const SINGLE_OPERATIONS = 5000;

const PARSPLICE_SERVERS = 4;

function sizeLabel(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024}KiB` : `${bytes}B`;
}

/**
 * hpckv, raw classic-level, the bare mechanism (one server: bare-store.ts) and (when installed)
 * Redis twice: the targets of the bulk and single rows.
 */
async function withKvTargets<T>(context: SectionContext, work: (targets: KvTarget[]) => Promise<T>): Promise<T> {
  const { servers, transport } = context.options;
  return withLocalGroup('suite', { servers, transport }, async ({ client, dir }) => {
    const raw = new ClassicLevel<Buffer, Buffer>(join(dir, 'raw'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    const redises: RunningRedis[] = [];
    let bare: BareStore | undefined;
    try {
      await mkdir(join(dir, 'bare'));
      bare = await startBareStore(join(dir, 'bare'), transport);
      const targets = [hpckvTarget(client, 'default'), levelTarget(raw), bare.target];
      if (redisServerInstalled()) {
        const plain = await startRedis('none');
        redises.push(plain);
        const aof = await startRedis('aof-everysec');
        redises.push(aof);
        targets.push(redisTarget(plain.client, 'redis'), redisTarget(aof.client, 'redis-aof-everysec'));
      } else if (!context.notes.includes(REDIS_INSTALL_HINT)) {
        context.notes.push(REDIS_INSTALL_HINT);
        process.stderr.write(`${REDIS_INSTALL_HINT}\n`);
      }
      return await work(targets);
    } finally {
      for (const redis of redises) await redis.stop();
      await bare?.stop();
      await raw.close();
    }
  });
}

const SECTIONS: Section[] = [
  {
    name: 'bulk', rows: ['bulk-*'],
    run: (context) => withKvTargets(context, async (targets) => {
      const rows: SuiteRow[] = [];
      const smallest = Math.min(...context.options.valueSizes);
      for (const bytes of context.options.valueSizes) {
        const records = Math.max(1000, Math.round(context.options.records * Math.min(1, (smallest + 64) / (bytes + 64)) / 1000) * 1000);
        rows.push(...await bulkRows(targets, bytes, records, sizeLabel(bytes), context.options.rounds, kvSetup(context)));
      }
      return rows;
    }),
  },
  {
    name: 'single', rows: ['single-*'],
    run: (context) => withKvTargets(context, async (targets) => {
      const bytes = 4096;
      const operations = context.options.quick ? 2000 : SINGLE_OPERATIONS;
      await loadBulkKeys(targets, bytes, operations); // the keys the gets read
      return singleRows(targets, bytes, operations, operations, context.options.rounds, kvSetup(context));
    }),
  },
  {
    name: 'scan', rows: ['scan-all-*', 'next-step-*'],
    run: async (context) => fromBenchReport('scan', 'classic-level iterator', hpckvSetup(2, context.options.transport), await runScanBench({
      servers: 2, records: context.options.quick ? 20_000 : 200_000, valueBytes: 100, transport: context.options.transport, partitions: ['hash', 'range'],
    })),
  },
  {
    name: 'region', rows: ['region-*'],
    run: async (context) => fromBenchReport('region', (id) => (id.startsWith('region-put') ? 'putMany' : 'getMany'), hpckvSetup(1, context.options.transport),
      await runRegionBench({ servers: 1, quick: context.options.quick, transport: context.options.transport })),
  },
  {
    name: 'procedure', rows: ['filter-*'],
    run: async (context) => fromBenchReport('procedure', (id) => ({
      'filter-1pct-msgpack': 'plain JS on the host', 'filter-vs-raw-scan': 'raw classic-level scan' } as Record<string, string>)[id] ?? 'fetch everything, filter in the client',
    // The procedure bench's group is its own: 2 servers on its launcher's default, unix sockets.
    (id) => (id === 'filter-1pct-msgpack' ? serverlessSetup('isolated-vm sandbox, no server') : hpckvSetup(2, 'unix')), await runProcedureBench({
      records: context.options.quick ? 20_000 : 200_000, groupRecords: context.options.quick ? 20_000 : 1_000_000,
    })),
  },
  {
    name: 'parsplice', rows: ['campaign-*'],
    // The campaigns launch their own groups, on the launcher's default transport (unix sockets).
    run: async (context) => fromBenchReport('parsplice', 'workers with no store', hpckvSetup(PARSPLICE_SERVERS, 'unix'), await runParspliceBench({
      seconds: context.options.quick ? 4 : 15,
      configs: [1, 2, 4].map((workers) => ({ id: `hash-${PARSPLICE_SERVERS}s-${workers}w`, servers: PARSPLICE_SERVERS, workers, segmentSteps: 500, partition: 'hash' as const })),
    })),
  },
  {
    name: 'scaling', rows: ['scaling-*'],
    run: async (context) => {
      context.notes.push(`scaling: this machine has ${availableParallelism()} cores, so more servers than cores measure the overhead of more servers, not scale`);
      return scalingRows(4096, context.options.quick ? 8000 : 40_000, [1, 2, 4], availableParallelism(), context.options.transport);
    },
  },
  {
    name: 'network', rows: ['net-*'],
    run: (context) => networkSection(context.options.network!, networkSizes(context.options.quick), context.notes),
  },
];

/** The setup of the bulk and single rows: the group withKvTargets launches. */
function kvSetup(context: SectionContext): RowSetup {
  return hpckvSetup(context.options.servers, context.options.transport);
}

function matches(pattern: string, id: string): boolean {
  return pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : id === pattern;
}

/** Runs the sections asked for, then writes <timestamp>.json, .md, .html and the SVG plots to outDir. */
export async function runSuite(options: SuiteOptions): Promise<{ report: SuiteReport; files: string[] }> {
  // The network section runs only when --network gives its rate.
  const sections = options.network === undefined ? SECTIONS.filter((section) => section.name !== 'network') : SECTIONS;
  if (options.network === undefined && options.only.some((only) => only === 'network' || only.startsWith('net-'))) {
    throw new RangeError('--only network needs --network 1gbit|10gbit|<N>mbit');
  }
  const chosen = options.only.length === 0 ? sections : sections.filter((section) => options.only.some((only) =>
    only === section.name || section.rows.some((pattern) => matches(pattern, only))));
  if (chosen.length === 0) throw new RangeError(`--only ${options.only.join(',')}: no such section or row (sections: ${sections.map((s) => s.name).join(', ')})`);
  const context: SectionContext = { options, notes: [] };
  const started = process.hrtime.bigint();
  const startedAt = new Date().toISOString();
  const bar = new ProgressBar('bench suite', chosen.length);
  const rows: SuiteRow[] = [];
  for (const [i, section] of chosen.entries()) {
    bar.update(i, `section ${section.name} (${i + 1}/${chosen.length})`);
    const got = await section.run(context);
    const wanted = options.only.filter((only) => only !== section.name && section.rows.some((pattern) => matches(pattern, only)));
    rows.push(...(wanted.length === 0 || options.only.includes(section.name) ? got : got.filter((row) => wanted.some((w) => matches(w, row.id)))));
  }
  bar.finish(`${rows.length} rows`);
  const report: SuiteReport = {
    machine: machineInfo(), startedAt, seconds: Number(process.hrtime.bigint() - started) / 1e9, command: options.command, quick: options.quick, rounds: options.rounds,
    notes: context.notes, rows,
  };
  await mkdir(options.outDir, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  const base = join(options.outDir, stamp);
  const files = [`${base}.json`, `${base}.md`, `${base}.html`];
  await writeFile(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files[1]!, markdownTable(report));
  const plotFiles: Array<{ file: string; title: string }> = [];
  for (const plot of plots(report)) {
    const file = `${stamp}-${plot.name}.svg`;
    await writeFile(join(options.outDir, file), plot.svg);
    files.push(join(options.outDir, file));
    plotFiles.push({ file, title: plot.title });
  }
  await writeFile(files[2]!, htmlReport(report, plotFiles));
  return { report, files };
}
