import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runIfMain } from '../bench-main.js';
import { parseLinkRate } from '../network/link-rate.js';
import { markdownTable } from './report.js';
import { runSuite } from './suite.js';

/** `npm run bench [-- --quick] [--servers N] [--value-sizes 64,4096] [--records N] [--only ROW,...] [--out DIR] [--network 1gbit|10gbit|<N>mbit]` */
export async function suiteMain(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    quick: { type: 'boolean' }, servers: { type: 'string' }, 'value-sizes': { type: 'string' }, records: { type: 'string' },
    only: { type: 'string' }, out: { type: 'string' }, network: { type: 'string' },
  } });
  const positive = (text: string, name: string): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${name} takes positive integers, got ${text}`);
    return n;
  };
  const quick = values.quick === true;
  const { report, files } = await runSuite({
    quick,
    servers: positive(values.servers ?? '2', 'servers'),
    valueSizes: (values['value-sizes'] ?? '64,4096').split(',').map((v) => positive(v, 'value-sizes')),
    records: positive(values.records ?? (quick ? '20000' : '200000'), 'records'),
    only: values.only === undefined ? [] : values.only.split(',').filter((s) => s !== ''),
    outDir: values.out ?? join(process.cwd(), 'bench', 'results'),
    ...(values.network === undefined ? {} : { network: parseLinkRate(values.network) }),
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
  });
  process.stdout.write(markdownTable(report));
  for (const file of files) process.stdout.write(`wrote ${file}\n`);
}

runIfMain(import.meta.url, () => suiteMain(process.argv.slice(2)));
