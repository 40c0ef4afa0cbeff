import test from 'ava';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MPI_ADDON_LOADER } from '../../../core/comm/mpi-addon.js';
import { runScript } from '../../support/run-script.js';

/**
 * The addon's install step and loader on a machine without MPI: a copy of the addon's
 * scripts in a temporary directory, run with a PATH where no mpicc answers.
 */

const require = createRequire(import.meta.url);
const PACKAGE_DIR = dirname(MPI_ADDON_LOADER);

interface MpiFlags {
  parseFlags(line: string): { includeDirs: string[]; defines: string[]; libraries: string[] };
}

test('without an MPI compiler wrapper the install step builds nothing, exits 0 and the loader says why', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-mpi-install-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const file of ['install.cjs', 'mpi-flags.cjs', 'index.cjs']) await copyFile(join(PACKAGE_DIR, file), join(dir, file));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
  delete env['MPICC'];
  delete env['HPCKV_MPI_DISABLE'];
  const result = await runScript(join(dir, 'install.cjs'), [], { env, timeoutMs: 30_000 });
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /hpckv-mpi: MPI addon not built: no MPI found at install: no MPI compiler wrapper: `mpicc --showme` failed \(ENOENT\)/);
  const status = JSON.parse(await readFile(join(dir, 'install-status.json'), 'utf8')) as { built: boolean; reason: string };
  t.false(status.built);
  const loader = require(join(dir, 'index.cjs')) as { loadMpiAddon(): { available: boolean; reason?: string } };
  t.deepEqual(loader.loadMpiAddon(), { available: false, reason: status.reason });
});

test('MPI flags come from the wrapper line of Open MPI (--showme) or MPICH (-show)', (t) => {
  const { parseFlags } = require(join(PACKAGE_DIR, 'mpi-flags.cjs')) as MpiFlags;
  t.deepEqual(parseFlags('gcc -I/usr/lib/x86_64-linux-gnu/openmpi/include -I/usr/lib/x86_64-linux-gnu/openmpi/include/openmpi '
    + '-L/usr/lib/x86_64-linux-gnu/openmpi/lib -lmpi'), {
    includeDirs: ['/usr/lib/x86_64-linux-gnu/openmpi/include', '/usr/lib/x86_64-linux-gnu/openmpi/include/openmpi'],
    defines: [],
    libraries: ['-L/usr/lib/x86_64-linux-gnu/openmpi/lib', '-Wl,-rpath,/usr/lib/x86_64-linux-gnu/openmpi/lib', '-lmpi'],
  });
  t.deepEqual(parseFlags('gcc -I/opt/mpich/include -D_REENTRANT -L /opt/mpich/lib -Wl,-rpath -Wl,/opt/mpich/lib -Wl,--enable-new-dtags -lmpi -pthread'), {
    includeDirs: ['/opt/mpich/include'],
    defines: ['_REENTRANT'],
    libraries: ['-L/opt/mpich/lib', '-Wl,-rpath,/opt/mpich/lib', '-Wl,-rpath', '-Wl,/opt/mpich/lib', '-Wl,--enable-new-dtags', '-lmpi', '-pthread'],
  });
});
