// The error and limit pages must list exactly what the code has: every HPCKV_ERR_* code in
// docs/errors.md and every limit (with its default) in docs/limits.md, both ways. And every
// relative link of the Markdown pages reaches a file of the repository (and a heading there).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** GitHub's anchor for a heading: lower case, punctuation but hyphens dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

test('every relative link of the Markdown pages names a file of the repository, and a heading of it when it has an anchor', async (t) => {
  const pages = execFileSync('git', ['ls-files', '*.md'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((line) => line !== '');
  t.true(pages.includes('README.md') && pages.includes('docs/design.md'));
  for (const page of pages) {
    const text = await readFile(join(ROOT, page), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue; // another site, or a heading of this page
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const file = join(dirname(join(ROOT, page)), path);
      t.true(existsSync(file) && !relative(ROOT, file).startsWith('..'), `${page} links ${target}, which is no file of the repository`);
      if (anchor === undefined || !existsSync(file)) continue;
      const headings = (await readFile(file, 'utf8')).split('\n').filter((line) => line.startsWith('#')).map((line) => anchorOf(line.replace(/^#+/, '')));
      t.true(headings.includes(anchor), `${page} links ${target}: ${path} has no heading #${anchor}`);
    }
  }
});
