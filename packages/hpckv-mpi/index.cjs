'use strict';
/**
 * Loads the addon lazily, on the first call of loadMpiAddon(), and never throws: a machine
 * without MPI gets { available: false, reason } saying why (no MPI at install, the build failed,
 * the library cannot be loaded, or HPCKV_MPI_DISABLE=1).
 *
 * The addon is opened with RTLD_GLOBAL: Open MPI loads its components as plugins that expect
 * libmpi's symbols in the global scope, which a plain require() of an addon does not give.
 */
const { existsSync, readFileSync } = require('node:fs');
const { constants } = require('node:os');
const { join } = require('node:path');

const ADDON = join(__dirname, 'build', 'Release', 'hpckv_mpi.node');
const STATUS_FILE = join(__dirname, 'install-status.json');

let loaded;

function readStatus() {
  try {
    return JSON.parse(readFileSync(STATUS_FILE, 'utf8'));
  } catch {
    return undefined;
  }
}

function load() {
  if (process.env.HPCKV_MPI_DISABLE === '1') return { available: false, reason: 'disabled by HPCKV_MPI_DISABLE=1' };
  const status = readStatus();
  if (status !== undefined && status.built === false) return { available: false, reason: status.reason };
  if (!existsSync(ADDON)) {
    return { available: false, reason: `the MPI addon is not built (${ADDON} is missing; install MPI, then run "npm rebuild hpckv" where hpckv is installed, or "npm run install" in a checkout of hpckv)` };
  }
  try {
    const module = { exports: {} };
    process.dlopen(module, ADDON, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
    return { available: true, addon: module.exports, path: ADDON };
  } catch (error) {
    return { available: false, reason: `the MPI addon failed to load: ${error && error.message}` };
  }
}

function loadMpiAddon() {
  if (loaded === undefined) loaded = load();
  return loaded;
}

module.exports = { loadMpiAddon };
