// The import rules of docs/design.md, checked on the sources: which top-level folder may import
// which, no import cycle (type imports included), and nothing a server or client process loads at run time
// reaches bench/, examples/, test/ or a devDependency.
import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: tests run from dist/test/<folder>/. */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SOURCE_FOLDERS = ['core', 'partition', 'procedures', 'client', 'server', 'bin', 'bench', 'examples'];

/**
 * Which top-level folders (or index.ts) each may import at run time. Imports of types only are
 * free. Examples are written against the public entry (index.ts) alone; bench/ measures them. bin/
 * reaches bench/ and examples/ only through dynamic imports, for the commands that run them.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  partition: ['core'],
  procedures: ['core'],
  client: ['core', 'partition'],
  server: ['core', 'partition', 'procedures'],
  index: ['core', 'partition', 'client', 'server', 'procedures'],
  bin: ['core', 'partition', 'client', 'server', 'procedures', 'index'],
  bench: ['core', 'partition', 'client', 'server', 'procedures', 'index', 'examples'],
  examples: ['index'],
};
const DYNAMIC_ONLY: Record<string, readonly string[]> = { bin: ['bench', 'examples'] };

interface Import { target: string; dynamic: boolean }

async function sourceFiles(): Promise<string[]> {
  const files = [join(ROOT, 'index.ts')];
  for (const folder of SOURCE_FOLDERS) {
    for (const entry of await readdir(join(ROOT, folder), { recursive: true })) {
      if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) files.push(join(ROOT, folder, entry));
    }
  }
  return files;
}

/** Runtime imports of a source: relative ones resolved to .ts paths, packages by name. */
function importsOf(file: string, source: string): Import[] {
  const found: Import[] = [];
  const statics = /^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gm;
  const dynamics = /\bimport\(\s*'([^']+)'\s*\)/g;
  for (const [pattern, dynamic] of [[statics, false], [dynamics, true]] as const) {
    for (const match of source.matchAll(pattern)) {
      const spec = match[1]!;
      found.push({ target: spec.startsWith('.') ? resolve(dirname(file), spec).replace(/\.js$/, '.ts') : spec, dynamic });
    }
  }
  return found;
}

function layerOf(file: string): string {
  return relative(ROOT, file).split('/')[0]!.replace(/\.ts$/, '');
}

/** Imports of types only (`import type`, `export type ... from`), resolved like the others. */
function typeImportsOf(file: string, source: string): Import[] {
  const pattern = /^\s*(?:import|export)\s+type\b[^;'"]*?\sfrom\s+'([^']+)'/gm;
  return [...source.matchAll(pattern)].map((match) => {
    const spec = match[1]!;
    return { target: spec.startsWith('.') ? resolve(dirname(file), spec).replace(/\.js$/, '.ts') : spec, dynamic: false };
  });
}

const graph = new Map<string, Import[]>();
/** Every static import, types included: what a reader follows from file to file. */
const readingGraph = new Map<string, Import[]>();
for (const file of await sourceFiles()) {
  const source = await readFile(file, 'utf8');
  graph.set(file, importsOf(file, source));
  readingGraph.set(file, [...graph.get(file)!.filter((i) => !i.dynamic), ...typeImportsOf(file, source)]);
}

/** The import cycles of a graph, each as a path of files that returns to its start. */
function cyclesOf(edges: ReadonlyMap<string, Import[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const { target, dynamic } of edges.get(file) ?? []) {
      if (dynamic || !edges.has(target)) continue;
      if (state.get(target) === 'open') cycles.push(path.slice(path.indexOf(target)).concat(target).map((p) => relative(ROOT, p)).join(' -> '));
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

test('every import between folders follows the layer rules', (t) => {
  const broken: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    for (const { target, dynamic } of imports) {
      if (!target.startsWith(ROOT)) continue;
      const to = layerOf(target);
      if (to === from) continue;
      const allowed = ALLOWED[from]!.includes(to) || (dynamic && (DYNAMIC_ONLY[from] ?? []).includes(to));
      if (!allowed) broken.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}${dynamic ? ' (dynamic)' : ''}`);
    }
  }
  t.deepEqual(broken, []);
  t.true(graph.size > 100, `read ${graph.size} sources`);
});

test('no cycle of runtime imports', (t) => {
  t.deepEqual(cyclesOf(graph), []);
});

test('no cycle of imports at all, type imports included: files can be read from the bottom up', (t) => {
  t.deepEqual(cyclesOf(readingGraph), []);
  const typeEdges = [...readingGraph.values()].flat().length - [...graph.values()].flat().filter((i) => !i.dynamic).length;
  t.true(typeEdges > 100, `${typeEdges} type imports read`);
});

test('what the CLI and the package entries load at run time reaches no bench/ code and no devDependency', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const dependencies = new Set(Object.keys(pkg.dependencies));
  const builtins = new Set(builtinModules);
  const entries = ['bin/hpckv.ts', 'index.ts', 'server/index.ts'].map((path) => join(ROOT, path));
  const seen = new Set<string>();
  const bad: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { target, dynamic } of graph.get(file) ?? []) {
      // The CLI's bench, demo and mixed commands load bench/ or examples/ when they run; other dynamic imports load with the process.
      if (dynamic && layerOf(file) === 'bin' && (DYNAMIC_ONLY['bin'] ?? []).includes(layerOf(target))) continue;
      if (target.startsWith(ROOT)) {
        if (['bench', 'examples', 'test'].includes(layerOf(target))) bad.push(`${relative(ROOT, file)} -> ${relative(ROOT, target)}`);
        else visit(target);
        continue;
      }
      const name = target.startsWith('node:') ? target : target.split('/').slice(0, target.startsWith('@') ? 2 : 1).join('/');
      if (!name.startsWith('node:') && !builtins.has(name) && !dependencies.has(name)) bad.push(`${relative(ROOT, file)} -> ${name} (not a dependency)`);
    }
  };
  for (const entry of entries) visit(entry);
  t.deepEqual(bad, []);
  t.true(seen.size > 50, `followed ${seen.size} sources`);
});
