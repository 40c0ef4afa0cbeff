import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScript } from '../../support/run-script.js';

/** Each bench, its quick arguments, and the rows it must report; `latency` rows have ratio = baseline / value. */
const BENCHES = [
  { name: 'kv', args: ['--quick'], rows: ['bulk-put-4KiB', 'bulk-get-4KiB', 'bulk-put-64B', 'bulk-get-64B', 'get-64-in-flight-4KiB', 'get-one-at-a-time-4KiB'],
    latency: ['get-one-at-a-time-4KiB'] },
  { name: 'region', args: ['--quick'], rows: ['region-put-4KiB', 'region-get-4KiB', 'region-put-4KiB-4-in-flight', 'region-put-64B', 'region-get-64B', 'region-put-64B-4-in-flight'], latency: [] },
  { name: 'procedure', args: ['--records', '2000', '--group-records', '2000'], rows: ['filter-1pct-msgpack', 'filter-server-side', 'filter-server-side-field', 'filter-vs-raw-scan', 'filter-bytes-to-client'],
    latency: ['filter-bytes-to-client'] },
  { name: 'parsplice', args: ['--quick'], rows: ['campaign-hash-4s-4w', 'campaign-hash-2s-4w-short'], latency: [] },
  { name: 'scan', args: ['--records', '1000'], rows: ['scan-all-hash', 'next-step-hash', 'scan-all-range', 'next-step-range'],
    latency: ['next-step-hash', 'next-step-range'] },
];

// Keeps the benchmark harnesses working; they report speed, the test checks only their shape.
for (const bench of BENCHES) {
  test(`npm run bench:${bench.name} prints the table and writes every row as JSON`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hpckv-bench-test-'));
    const json = join(dir, `${bench.name}.json`);
    const script = fileURLToPath(new URL(`../../../bench/${bench.name}-bench.js`, import.meta.url));
    const result = await runScript(script, [...bench.args, '--json', json]);
    t.is(result.code, 0, result.stderr);
    const report = JSON.parse(await readFile(json, 'utf8')) as {
      machine: { cores: number }; rows: Array<{ id: string; what: string; value: number; unit: string; baseline: number; ratio: number }>;
    };
    t.true(report.machine.cores > 0);
    t.deepEqual(report.rows.map((row) => row.id), bench.rows);
    for (const row of report.rows) {
      t.true(Number.isFinite(row.value) && row.value > 0, `${row.id} value`);
      t.true(Number.isFinite(row.baseline) && row.baseline > 0, `${row.id} baseline`);
      const expected = bench.latency.includes(row.id) ? row.baseline / row.value : row.value / row.baseline;
      t.true(Math.abs(row.ratio - expected) < 1e-9, `${row.id} ratio`);
      t.true(result.stdout.includes(row.id), `${row.id} in the printed table`);
    }
    await rm(dir, { recursive: true, force: true });
  });
}
