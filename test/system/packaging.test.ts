// hpckv as a dependency of someone else's project: `npm pack`, an offline install of the tarball
// with production dependencies only into a temporary project, then the installed package at work.
// Found by a user: the tarball could not be installed (the MPI addon was a registry dependency
// under a name hpckv does not own), and the installed CLI crashed on a devDependency it loaded.
// Offline works after the repository's `npm ci`: it cached every package with its registry
// metadata, and node-gyp's node headers (or isolated-vm's prebuilt binary, where it could be
// downloaded), which isolated-vm's and the MPI addon's builds need again here.
import test from 'ava';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MPI_ADDON_LOADER } from '../../core/comm/mpi-addon.js';
import { productionLockfile, type RepositoryPackage } from '../support/production-lockfile.js';
import { runCommand, runScript } from '../support/run-script.js';

/** The repository: tests run from dist/test/<folder>/. */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../support/fixtures/installed-package.js', import.meta.url));
const PROJECT = 'hpckv-packaging-check';
/** isolated-vm builds from source when no prebuilt binary can be fetched: 94 s alone on 2 cores. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

interface PackResult {
  filename: string;
  integrity: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string }>;
}

interface Installed {
  /** The project's directory, symbolic links resolved (as the installed code sees its own paths). */
  project: string;
  seconds: number;
}

/**
 * The environment of every npm and installed-package child. `npm test` exports its own settings as
 * npm_* variables, and npm_config_local_prefix among them would point a child npm at this
 * repository; only the cache and the node headers' directory, where the offline install finds
 * its material, are kept.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'INIT_CWD' || (key.startsWith('npm_') && key !== 'npm_config_cache' && key !== 'npm_config_nodedir')) continue;
    env[key] = value;
  }
  env['PATH'] = `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`;
  return env;
}

const ENV = childEnv();
const work = await mkdtemp(join(tmpdir(), 'hpckv-packaging-'));
test.after.always(() => rm(work, { recursive: true, force: true }));

async function pack(): Promise<PackResult> {
  // --ignore-scripts: `prepare` would rebuild dist/ while other test files run from it; `npm test` has just built it.
  const run = await runCommand('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env: ENV, timeoutMs: 120_000 });
  if (run.code !== 0) throw new Error(`npm pack exited with ${run.code}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as PackResult[])[0]!;
}

async function install(packed: PackResult): Promise<Installed> {
  const project = join(work, 'project');
  await mkdir(project);
  const spec = `file:../${packed.filename}`;
  await writeFile(join(project, 'package.json'), JSON.stringify({
    name: PROJECT, version: '1.0.0', private: true, type: 'module', dependencies: { hpckv: spec },
    // npm 11 runs a dependency's install scripts only with a warning unless the project approves
    // them here (and refuses under strict-allow-scripts): hpckv's builds the MPI addon, isolated-vm's
    // builds it from source. A tarball is named by its path.
    allowScripts: { [`file:${join(work, packed.filename)}`]: true, 'isolated-vm': true, 'classic-level': true, 'msgpackr-extract': true },
  }, null, 2));
  const repositoryLock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as Parameters<typeof productionLockfile>[1];
  const lock = productionLockfile(PROJECT, repositoryLock, await repositoryPackage(), { spec, integrity: packed.integrity });
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  const started = performance.now();
  const run = await runCommand('npm', ['install', '--offline', '--omit=dev', '--no-audit', '--no-fund'], { cwd: project, env: ENV, timeoutMs: INSTALL_TIMEOUT_MS });
  if (run.code !== 0) throw new Error(`npm install exited with ${run.code}:\n${run.stdout}\n${run.stderr}`);
  await copyFile(FIXTURE, join(project, 'installed-package.js'));
  return { project: await realpath(project), seconds: (performance.now() - started) / 1000 };
}

async function repositoryPackage(): Promise<RepositoryPackage & { devDependencies: Record<string, string>; main: string; types: string; exports: Record<string, Record<string, string>> }> {
  return JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Awaited<ReturnType<typeof repositoryPackage>>;
}

let packing: Promise<PackResult> | undefined;
let installing: Promise<Installed> | undefined;
const packed = (): Promise<PackResult> => (packing ??= pack());
const installed = (): Promise<Installed> => (installing ??= packed().then(install));

/** What mpiUnavailableReason() answers in the installed package on this machine. */
function expectedMpi(): string {
  if (ENV['HPCKV_MPI_DISABLE'] === '1') return 'disabled by HPCKV_MPI_DISABLE=1';
  const require = createRequire(import.meta.url);
  const { detectMpi } = require(join(dirname(MPI_ADDON_LOADER), 'mpi-flags.cjs')) as { detectMpi(env: NodeJS.ProcessEnv): { found: boolean; reason?: string } };
  const mpi = detectMpi(ENV);
  return mpi.found ? 'available' : `no MPI found at install: ${mpi.reason}`;
}

/** The first path segment of each file, once each, sorted. */
const topLevel = (paths: readonly string[]): string[] => [...new Set(paths.map((path) => path.split('/')[0]!))].sort();

test.serial('installed offline with production dependencies only, the public entry launches a group through the installed CLI', async (t) => {
  t.timeout(INSTALL_TIMEOUT_MS + 120_000);
  const { project, seconds } = await installed();
  t.log(`npm install of the tarball (offline, --omit=dev): ${seconds.toFixed(1)} s`);
  const pkg = await repositoryPackage();
  t.deepEqual(Object.keys(pkg.devDependencies).filter((name) => existsSync(join(project, 'node_modules', name))), []);
  const run = await runScript(join(project, 'installed-package.js'), [], { cwd: project, env: ENV, timeoutMs: 120_000 });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(JSON.parse(run.stdout), {
    serverCli: join(project, 'node_modules', 'hpckv', 'dist', 'bin', 'hpckv.js'),
    servers: 2, value: 'value of b', count: 3, mpi: expectedMpi(),
  });
});

test.serial('the installed bin runs; bench says in one line that it is a development command; the demo runs from the shipped examples', async (t) => {
  t.timeout(INSTALL_TIMEOUT_MS + 120_000);
  const { project } = await installed();
  const bin = join(project, 'node_modules', '.bin', 'hpckv');
  const help = await runCommand(bin, ['--help'], { cwd: project, env: ENV, timeoutMs: 60_000 });
  t.is(help.code, 0, help.stderr);
  t.true(help.stdout.startsWith('hpckv — a partitioned, ordered key-value store for HPC\n\nUsage: hpckv COMMAND [options]'), help.stdout);
  t.regex(help.stdout, /^ +where +which server rank holds a key/m);
  const bench = await runCommand(bin, ['bench', '--quick'], { cwd: project, env: ENV, timeoutMs: 60_000 });
  const dist = join(project, 'node_modules', 'hpckv', 'dist');
  t.is(bench.code, 1);
  t.is(bench.stderr, 'hpckv: bench is a development command: run it in a checkout of hpckv after npm ci (npm run bench); this '
    + `installation has no benchmarks (Cannot find module '${dist}/bench/suite/suite-main.js' imported from ${dist}/bin/commands/workload-commands.js)\n`);
  const demo = await runCommand(bin, ['demo', '--servers', '2', '--workers', '1', '--seconds', '3'], { cwd: project, env: ENV, timeoutMs: 120_000 });
  t.is(demo.code, 0, demo.stderr);
  t.regex(demo.stdout, /^checked from the store: \d+ spliced segments continuous \(0 breaks\), 0 missing states, 0 overwritten$/m);
});

test('the tarball holds the runtime, its types, the docs and the MPI addon sources, and nothing of the repository\'s own', async (t) => {
  const { files, entryCount, size, unpackedSize } = await packed();
  t.log(`${entryCount} files, ${(size / 1024).toFixed(0)} KiB packed, ${(unpackedSize / 1024).toFixed(0)} KiB unpacked`);
  const paths = files.map((file) => file.path).sort();
  t.deepEqual(topLevel(paths), ['README.md', 'dist', 'docs', 'package.json', 'packages', 'procedures']);
  t.deepEqual(topLevel(paths.filter((path) => path.startsWith('dist/')).map((path) => path.slice('dist/'.length))),
    ['bin', 'client', 'core', 'examples', 'index.d.ts', 'index.js', 'partition', 'procedures', 'server']);
  t.deepEqual(paths.filter((path) => !path.startsWith('dist/') && !path.startsWith('docs/')), [
    'README.md', 'package.json', 'packages/hpckv-mpi/binding.gyp', 'packages/hpckv-mpi/index.cjs', 'packages/hpckv-mpi/install.cjs',
    'packages/hpckv-mpi/mpi-flags.cjs', 'packages/hpckv-mpi/src/hpckv_mpi.cc', 'procedures/README.md',
  ]);
  t.deepEqual(paths.filter((path) => (path.endsWith('.ts') && !path.endsWith('.d.ts')) || path.endsWith('.map')), []);
  const compiled = paths.filter((path) => path.startsWith('dist/') && path.endsWith('.js'));
  t.deepEqual(compiled.filter((path) => !paths.includes(path.replace(/\.js$/, '.d.ts'))), [], 'every module has its types');
  const pkg = await repositoryPackage();
  const named = [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {}), ...Object.values(pkg.exports).flatMap((entry) => Object.values(entry))];
  t.deepEqual(named.map((path) => path.replace(/^\.\//, '')).filter((path) => !paths.includes(path)), [], 'main, types, bin and exports ship');
});
