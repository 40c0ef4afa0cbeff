import test from 'ava';
import { fileURLToPath } from 'node:url';
import { SOAK_OPS } from '../../bench/soak/soak-worker.js';
import type { SoakReport } from '../../bench/soak/soak.js';
import { runScript } from '../support/run-script.js';

const SOAK = fileURLToPath(new URL('../../bench/soak/soak-main.js', import.meta.url));
const SERVERS = 3;
const WORKERS = 4;

test('soak, 1 minute: a mixed workload on 3 servers from 4 clients, every answer checked and every key verified again and again', async (t) => {
  t.timeout(240_000);
  const result = await runScript(SOAK, [
    '--minutes', '1', '--servers', String(SERVERS), '--workers', String(WORKERS), '--keys', '1000',
    '--sample-seconds', '10', '--verify-seconds', '15', '--json',
  ], { timeoutMs: 200_000 });
  t.is(result.code, 0, result.stderr + result.stdout.slice(-2000));
  const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as SoakReport;
  t.log(result.stdout.split('\n').filter((line) => !line.startsWith('{')).join('\n'));
  t.is(report.problems, 0, report.problemSamples.join('\n'));
  t.true(report.seconds >= 60);
  for (const op of SOAK_OPS) t.true(report.ops[op] > 0, `${op} ran`);
  t.is(report.operations, SOAK_OPS.reduce((n, op) => n + report.ops[op], 0));
  // Each worker verifies at 15, 30 and 45 s (at least) and once more at the end.
  t.true(report.verifications >= WORKERS * 4, `${report.verifications} verifications`);
  t.true(report.samples.length >= 6, `${report.samples.length} samples`);
  for (const sample of report.samples) {
    t.is(sample.serverRssMiB.length, SERVERS);
    t.true(sample.serverRssMiB.every((mib) => mib !== null && mib > 0), JSON.stringify(sample.serverRssMiB));
  }
});
