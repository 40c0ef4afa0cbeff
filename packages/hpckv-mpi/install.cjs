'use strict';
/**
 * hpckv's install step (its package.json `install` script, in a checkout and where hpckv is
 * installed as a dependency): builds the addon with node-gyp only when an MPI compiler wrapper
 * answers (see mpi-flags.cjs), and always exits 0, so `npm install` succeeds on a machine
 * without MPI. What happened is written to install-status.json, which index.cjs reads to say why
 * the backend is unavailable.
 */
const { spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { detectMpi } = require('./mpi-flags.cjs');

const STATUS_FILE = join(__dirname, 'install-status.json');

function finish(status) {
  writeFileSync(STATUS_FILE, JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2) + '\n');
  const what = status.built ? `built the MPI addon (${status.flavour}: ${status.line})` : `MPI addon not built: ${status.reason}`;
  process.stdout.write(`hpckv-mpi: ${what}${status.built ? '' : '; the mpi communicator backend will report itself unavailable'}\n`);
  process.exit(0);
}

/** node-gyp as npm runs it for install scripts (npm_config_node_gyp), else one installed, else on PATH. */
function nodeGypCommand() {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled) return [process.execPath, [bundled]];
  try {
    return [process.execPath, [require.resolve('node-gyp/bin/node-gyp.js')]];
  } catch {
    return ['node-gyp', []];
  }
}

function main() {
  const mpi = detectMpi();
  if (!mpi.found) finish({ built: false, reason: `no MPI found at install: ${mpi.reason}` });
  const [command, prefix] = nodeGypCommand();
  const run = spawnSync(command, [...prefix, 'rebuild'], { cwd: __dirname, stdio: 'inherit' });
  if (run.error !== undefined) finish({ built: false, reason: `could not run node-gyp (${run.error.message})` });
  if (run.status !== 0) finish({ built: false, reason: `node-gyp rebuild failed (exit ${run.status}); see the install log` });
  finish({ built: true, flavour: mpi.flavour, line: mpi.line });
}

try {
  main();
} catch (error) {
  // Never fail the install: the backend is optional.
  try {
    finish({ built: false, reason: `install step failed: ${error && error.message}` });
  } catch {
    process.exit(0);
  }
}
