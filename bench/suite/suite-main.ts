import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runIfMain } from '../bench-main.js';
import { DEFAULT_ROUNDS } from './kv-rows.js';
import { parseLinkRate } from '../network/link-rate.js';
import { markdownTable } from './report.js';
import { runSuite } from './suite.js';
import type { Transport } from './suite-row.js';

/**
 * Records of the bulk rows at the smallest value size, per round. 100,000 (it was 200,000 when the
 * suite kept the best of 2 rounds): `--only single,bulk` with 3 rounds then took 99 s plus the build
 * (2 min 25 s in all) on 2 cores that other jobs kept busy (load 9), under the 3 minutes asked of
 * it. Each round is still 100 batches per target of 64 B records (about 1 s of hpckv per phase)
 * and 3 batches of 4 KiB ones.
 */
const DEFAULT_RECORDS = 100_000;
const QUICK_RECORDS = 20_000;

/** What `hpckv bench --help` and `npm run bench -- --help` print. */
export const BENCH_USAGE = `hpckv bench [--quick] [--servers N] [--transport unix|tcp] [--rounds N] [--value-sizes 64,4096] [--records N]
            [--only ROW,...] [--out DIR] [--network 1gbit|10gbit|<N>mbit]
    The benchmark suite (npm run bench): every row next to its anchor (raw classic-level, Redis);
    bulk and single rows are the median (min-max) of N interleaved rounds (default ${DEFAULT_ROUNDS}), on
    --servers servers (default 2). --quick runs ${QUICK_RECORDS} records a round (default ${DEFAULT_RECORDS}, or --records).
    --only runs the sections or rows named. A JSON, Markdown and HTML/SVG report goes to --out (default
    bench/results/). --network (root) adds rows with the client across a tbf-shaped veth link.`;

/** `npm run bench [-- --help | --quick ...]`: see BENCH_USAGE. */
export async function suiteMain(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    help: { type: 'boolean', short: 'h' }, quick: { type: 'boolean' }, servers: { type: 'string' }, transport: { type: 'string' }, rounds: { type: 'string' },
    'value-sizes': { type: 'string' }, records: { type: 'string' }, only: { type: 'string' }, out: { type: 'string' }, network: { type: 'string' },
  } });
  if (values.help === true) {
    process.stdout.write(BENCH_USAGE + '\n');
    return;
  }
  const positive = (text: string, name: string): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${name} takes positive integers, got ${text}`);
    return n;
  };
  const quick = values.quick === true;
  const { report, files } = await runSuite({
    quick,
    servers: positive(values.servers ?? '2', 'servers'),
    transport: transportOf(values.transport ?? 'unix'),
    rounds: positive(values.rounds ?? String(DEFAULT_ROUNDS), 'rounds'),
    valueSizes: (values['value-sizes'] ?? '64,4096').split(',').map((v) => positive(v, 'value-sizes')),
    records: values.records === undefined ? (quick ? QUICK_RECORDS : DEFAULT_RECORDS) : positive(values.records, 'records'),
    only: values.only === undefined ? [] : values.only.split(',').filter((s) => s !== ''),
    outDir: values.out ?? join(process.cwd(), 'bench', 'results'),
    ...(values.network === undefined ? {} : { network: parseLinkRate(values.network) }),
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
  });
  process.stdout.write(markdownTable(report));
  for (const file of files) process.stdout.write(`wrote ${file}\n`);
}

function transportOf(text: string): Transport {
  if (text !== 'unix' && text !== 'tcp') throw new RangeError(`--transport takes unix or tcp, got ${text}`);
  return text;
}

runIfMain(import.meta.url, () => suiteMain(process.argv.slice(2)));
