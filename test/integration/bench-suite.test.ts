// Keeps the bench suite's harness alive: one small row through `npm run bench`, and its outputs.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScript } from '../helpers/run-script.js';

test('npm run bench -- --quick --only bulk-put-64B writes the JSON, the Markdown table, the HTML report and its plot', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'hpckv-suite-test-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const cli = fileURLToPath(new URL('../../bin/hpckv.js', import.meta.url));
  const result = await runScript(cli, ['bench', '--quick', '--only', 'bulk-put-64B', '--records', '2000', '--value-sizes', '64', '--out', out]);
  t.is(result.code, 0, result.stderr);
  const files = (await readdir(out)).sort();
  const stem = files.find((f) => f.endsWith('.json'))!.slice(0, -'.json'.length);
  t.deepEqual(files, [`${stem}-throughput-vs-value-size.svg`, `${stem}.html`, `${stem}.json`, `${stem}.md`].sort());
  const report = JSON.parse(await readFile(join(out, `${stem}.json`), 'utf8')) as { rows: Array<{ id: string; value: number; anchors: Array<{ name: string; ratio: number }> }> };
  t.deepEqual(report.rows.map((row) => row.id), ['bulk-put-64B'], '--only keeps that row alone');
  const row = report.rows[0]!;
  t.true(row.value > 0);
  t.is(row.anchors[0]!.name, 'classic-level');
  t.true(row.anchors.every((anchor) => anchor.ratio > 0 && Number.isFinite(anchor.ratio)));
  // Redis rows run when redis-server is installed, and are skipped with the install hint when not.
  const redis = row.anchors.some((anchor) => anchor.name === 'redis');
  t.is(redis, !/redis-server is not installed/.test(result.stderr));
  t.regex(await readFile(join(out, `${stem}.md`), 'utf8'), /\| bulk-put-64B \| records\/s \| [\d,]+ \| classic-level \|/);
  t.regex(await readFile(join(out, `${stem}.html`), 'utf8'), new RegExp(`<img src="${stem}-throughput-vs-value-size.svg"`));
  t.regex(await readFile(join(out, `${stem}-throughput-vs-value-size.svg`), 'utf8'), /^<svg [^>]*>[\s\S]*<rect [\s\S]*<\/svg>\n$/);
});
