import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SOAK_OPS } from './soak-worker.js';
import { DEFAULT_SOAK_OPTIONS, runSoak, type SoakOptions, type SoakReport, type SoakSample } from './soak.js';

const USAGE = `npm run soak -- [--minutes N] [--servers N] [--workers N] [--keys N] [--sample-seconds S] [--verify-seconds S] [--json] [--out DIR]
  A mixed workload (puts, gets, deletes, batches, write-once puts, scans, server-side filters and
  reductions) on a local group for N minutes (default 5), checked against a model; prints ops/s and
  each process's RSS over time; exit 1 on any mismatch or error. --json prints the report as JSON
  on the last line; --out DIR also writes it there.`;

function positive(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${text}`);
  return value;
}

function line(sample: SoakSample): string {
  const rss = sample.serverRssMiB.map((m) => (m === null ? '?' : m.toFixed(0))).join('/');
  const mix = SOAK_OPS.filter((op) => sample.ops[op] > 0).map((op) => `${op} ${sample.ops[op]}`).join(', ');
  return `${sample.atSeconds.toFixed(0).padStart(5)} s  ${sample.opsPerSecond.toFixed(0).padStart(7)} ops/s  `
    + `server RSS ${rss} MiB  client RSS ${sample.clientRssMiB.toFixed(0)} MiB  problems ${sample.problems}  (${mix})`;
}

function summary(report: SoakReport): string {
  const rss = report.serverRssFirstMiB.map((first, i) => {
    const last = report.serverRssLastMiB[i];
    return first === null || last === null || last === undefined ? '?' : `${first.toFixed(0)}→${last.toFixed(0)}`;
  }).join(', ');
  return [
    `soak: ${report.operations} operations in ${report.seconds.toFixed(0)} s (${report.opsPerSecond.toFixed(0)} ops/s) `
      + `over ${report.options.servers} servers and ${report.options.workers} clients`,
    `  ${SOAK_OPS.map((op) => `${op} ${report.ops[op]}`).join(', ')}`,
    `  mean ms per operation: ${SOAK_OPS.map((op) => `${op} ${report.meanMs[op].toFixed(op === 'put' || op === 'get' || op === 'del' ? 2 : 1)}`).join(', ')}`,
    `  full verifications: ${report.verifications}; server RSS first→last sample (MiB): ${rss}`,
    report.problems === 0 ? '  every answer matched the model: 0 problems' : `  PROBLEMS: ${report.problems}\n    ${report.problemSamples.join('\n    ')}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' }, servers: { type: 'string' }, workers: { type: 'string' }, keys: { type: 'string' },
      'sample-seconds': { type: 'string' }, 'verify-seconds': { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const d = DEFAULT_SOAK_OPTIONS;
  const options: SoakOptions = {
    ...d,
    minutes: positive(values.minutes, 5, 'minutes'),
    servers: Math.round(positive(values.servers, d.servers, 'servers')),
    workers: Math.round(positive(values.workers, d.workers, 'workers')),
    keysPerWorker: Math.round(positive(values.keys, d.keysPerWorker, 'keys')),
    sampleEveryMs: positive(values['sample-seconds'], d.sampleEveryMs / 1000, 'sample-seconds') * 1000,
    verifyEveryMs: positive(values['verify-seconds'], d.verifyEveryMs / 1000, 'verify-seconds') * 1000,
    onSample: (sample) => process.stdout.write(line(sample) + '\n'),
  };
  process.stdout.write(`soak: ${options.minutes} min, ${options.servers} servers, ${options.workers} clients × ${options.keysPerWorker} keys, `
    + `sample every ${options.sampleEveryMs / 1000} s, verify every ${options.verifyEveryMs / 1000} s\n`);
  const report = await runSoak(options);
  process.stdout.write(summary(report) + '\n');
  if (values.out !== undefined) {
    await mkdir(values.out, { recursive: true });
    const path = join(values.out, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(path, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`report: ${path}\n`);
  }
  if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
  return report.problems === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
