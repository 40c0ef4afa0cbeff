'use strict';
/**
 * Finds the MPI compiler wrapper and the flags it would add, for install.cjs (whether to build)
 * and binding.gyp (what to build with). Open MPI's wrapper answers `mpicc --showme`, MPICH's
 * (and Intel MPI's) `mpicc -show`; both print the underlying compiler command line, whose
 * -I/-D/-L/-l/-Wl/-pthread tokens are what an MPI program needs. `MPICC` names another wrapper.
 *
 * As a command (from binding.gyp): `node mpi-flags.cjs include_dirs|defines|libraries` prints
 * one flag list, space-separated.
 */
const { spawnSync } = require('node:child_process');

/** @returns {{ found: true, flavour: string, wrapper: string, line: string, includeDirs: string[], defines: string[], libraries: string[] } | { found: false, reason: string }} */
function detectMpi(env = process.env) {
  if (env.HPCKV_MPI_DISABLE === '1') return { found: false, reason: 'disabled by HPCKV_MPI_DISABLE=1' };
  const wrapper = env.MPICC || 'mpicc';
  const attempts = [];
  for (const [flavour, flag] of [['Open MPI', '--showme'], ['MPICH', '-show']]) {
    const run = spawnSync(wrapper, [flag], { encoding: 'utf8', env, timeout: 10_000 });
    if (run.error !== undefined) {
      // Not on PATH (ENOENT) or not runnable: no point trying the other flag.
      return { found: false, reason: `no MPI compiler wrapper: \`${wrapper} ${flag}\` failed (${run.error.code || run.error.message})` };
    }
    const line = (run.stdout || '').trim();
    if (run.status === 0 && line !== '') return { found: true, flavour, wrapper, line, ...parseFlags(line) };
    attempts.push(`\`${wrapper} ${flag}\` exited with ${run.status}`);
  }
  return { found: false, reason: `${wrapper} answers neither --showme (Open MPI) nor -show (MPICH): ${attempts.join(', ')}` };
}

/** The MPI part of a compiler command line (the first token is the compiler itself). */
function parseFlags(line) {
  const includeDirs = [];
  const defines = [];
  const libraries = [];
  const tokens = line.split(/\s+/).slice(1);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    // `-I dir` / `-L dir` with a space are legal too.
    const value = (prefix) => (token.length > prefix.length ? token.slice(prefix.length) : tokens[++i]);
    if (token.startsWith('-I')) includeDirs.push(value('-I'));
    else if (token.startsWith('-D')) defines.push(value('-D'));
    else if (token.startsWith('-L')) {
      const dir = value('-L');
      // The addon is dlopen()ed by node: find libmpi where the wrapper found it.
      libraries.push(`-L${dir}`, `-Wl,-rpath,${dir}`);
    } else if (token.startsWith('-l') || token.startsWith('-Wl,') || token === '-pthread') libraries.push(token);
  }
  return { includeDirs, defines, libraries };
}

module.exports = { detectMpi, parseFlags };

if (require.main === module) {
  const which = process.argv[2];
  const mpi = detectMpi();
  if (!mpi.found) {
    process.stderr.write(`hpckv-mpi: ${mpi.reason}\n`);
    process.exit(1);
  }
  const lists = { include_dirs: mpi.includeDirs, defines: mpi.defines, libraries: mpi.libraries };
  if (!(which in lists)) {
    process.stderr.write('usage: node mpi-flags.cjs include_dirs|defines|libraries\n');
    process.exit(2);
  }
  process.stdout.write(lists[which].join(' ') + '\n');
}
