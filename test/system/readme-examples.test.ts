// The README's examples run as written: each script is taken from README.md at test time, run as
// real processes against this checkout's build (as the package 'hpckv'), and must exit 0 and print
// what its comments say. Fragments (```ts fragment) are left out; docs/style.md has the rules.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { readmeExamples, type ReadmeExample } from '../support/readme-examples.js';
import { runScript } from '../support/run-script.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = readmeExamples(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const RUNNABLE = EXAMPLES.filter((example) => !example.fragment);

/** A rank still running after this is killed, and fails its test. */
const EXAMPLE_MS_MAX = 60_000;

/** The example as the .mjs file a user would run: TypeScript with its types stripped. */
function scriptOf(example: ReadmeExample): string {
  if (example.language === 'js') return example.source;
  return ts.transpileModule(example.source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}

/** The environment mpirun gives rank `rank` of `size`, without any launcher variables of the test's own. */
function rankEnv(rank: number, size: number): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['HPCKV_RANK', 'HPCKV_SIZE', 'PMI_RANK', 'PMI_SIZE', 'SLURM_PROCID', 'SLURM_NTASKS']) delete env[name];
  return size === 1 ? env : { ...env, OMPI_COMM_WORLD_RANK: String(rank), OMPI_COMM_WORLD_SIZE: String(size) };
}

test('the README has its runnable examples, each with what it prints', (t) => {
  t.true(EXAMPLES.length > RUNNABLE.length, 'fragments are found and left out');
  for (const heading of ['API', 'MDHIM facade', 'SDSDKV facade']) t.true(RUNNABLE.some((example) => example.heading === heading), heading);
  for (const example of RUNNABLE) t.true(example.prints.length > 0, `line ${example.line}: says what it prints`);
  t.deepEqual(RUNNABLE.filter((example) => example.ranks > 1).map((example) => [example.heading, example.ranks, example.args]),
    [['MDHIM facade', 4, ['RENDEZVOUS_DIR', 'STORE_DIR']], ['SDSDKV facade', 4, ['RENDEZVOUS_DIR', 'DB_DIR']]]);
});

for (const example of RUNNABLE) {
  const how = example.ranks === 1 ? 'as a script' : `as ${example.ranks} ranks (mpirun environment)`;
  // Serial: the multi-rank examples start many processes on a machine shared with other suites.
  test.serial(`README example under "${example.heading}" (line ${example.line}) runs ${how}, exits 0 and prints: ${example.prints.join(' / ')}`, async (t) => {
    const work = await mkdtemp(join(tmpdir(), 'hpckv-readme-'));
    t.teardown(() => rm(work, { recursive: true, force: true }));
    // `import ... from 'hpckv'` finds this checkout, whose package.json maps the entry to dist/.
    await mkdir(join(work, 'node_modules'));
    await symlink(ROOT, join(work, 'node_modules', 'hpckv'), 'dir');
    const script = join(work, 'example.mjs');
    await writeFile(script, scriptOf(example));
    const args = example.args.map((name) => join(work, name.toLowerCase()));
    for (const dir of args) await mkdir(dir);
    const results = await Promise.all(Array.from({ length: example.ranks }, (_, rank) =>
      runScript(script, args, { env: rankEnv(rank, example.ranks), timeoutMs: EXAMPLE_MS_MAX })));
    for (const [rank, result] of results.entries()) {
      t.is(result.code, 0, `rank ${rank} ${result.code === null ? `was killed after ${EXAMPLE_MS_MAX} ms` : `exited ${result.code}`}: ${result.stderr}`);
    }
    t.deepEqual(results.flatMap((result) => result.stdout.split('\n').filter((line) => line !== '')), example.prints);
  });
}
