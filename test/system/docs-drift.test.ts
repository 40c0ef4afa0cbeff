// The error and limit pages must list exactly what the code has: every HPCKV_ERR_* code in
// docs/errors.md and every limit (with its default) in docs/limits.md, both ways.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { ErrorCodes } from '../../core/errors.js';
import { DEFAULT_LIMITS, type Limits } from '../../core/limits.js';

/** The repository's docs folder: tests run from dist/test/<folder>/. */
const docsPage = (name: string): Promise<string> => readFile(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');

/** The first cell of each row of the first Markdown table after the page's first line that starts with `header`. */
function firstColumn(page: string, header: string): string[] {
  const lines = page.split('\n');
  const start = lines.findIndex((line) => line.startsWith(header));
  if (start < 0) throw new Error(`no table headed ${header}`);
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|')[1]!.trim());
  }
  return rows;
}

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** A default as the page writes it ("16 MiB", "100000", "128 (at least 8)") as a number. */
function parseDefault(cell: string): number {
  const match = /^(\d[\d_,]*)(?:\s*(KiB|MiB|GiB))?/.exec(cell);
  if (match === null) throw new Error(`unreadable default: ${cell}`);
  return Number(match[1]!.replace(/[_,]/g, '')) * (match[2] === undefined ? 1 : UNITS[match[2]]!);
}

test('docs/errors.md lists every error code once, and only codes the code has', async (t) => {
  const page = await docsPage('errors.md');
  const documented = firstColumn(page, '| code |').map((cell) => cell.replace(/`/g, ''));
  t.deepEqual([...documented].sort(), Object.values(ErrorCodes).sort());
  t.is(new Set(documented).size, documented.length, 'no code twice');
  const mentioned = new Set(page.match(/HPCKV_ERR_[A-Z_]+/g));
  for (const code of mentioned) t.true((Object.values(ErrorCodes) as string[]).includes(code), `${code} is mentioned but is no code`);
});

test('docs/limits.md lists every limit once with its default, and only limits the code has', async (t) => {
  const page = await docsPage('limits.md');
  const lines = page.split('\n');
  const start = lines.findIndex((line) => line.startsWith('| limit | default |'));
  const rows = new Map<string, string>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [, name, defaultCell] = line.split('|').map((cell) => cell.trim());
    t.false(rows.has(name!), `${name} twice`);
    rows.set(name!.replace(/`/g, ''), defaultCell!);
  }
  t.deepEqual([...rows.keys()].sort(), Object.keys(DEFAULT_LIMITS).sort());
  for (const [name, cell] of rows) {
    t.is(parseDefault(cell), DEFAULT_LIMITS[name as keyof Limits], `${name}: the page says ${cell}`);
  }
});
