/**
 * The lockfile of a project whose one dependency is hpckv's packed tarball, made from the
 * repository's own lockfile: hpckv's entry, then every package its production dependencies reach,
 * at the versions and paths the repository pins.
 *
 * Why a test needs it: without a lockfile, npm 11 resolves each dependency from the registry's full
 * metadata document, which `npm ci` never fetches, so an offline install fails with ENOTCACHED
 * even when every tarball is in the cache. With one, npm needs only what `npm ci` cached.
 */

/** The parts of a package-lock.json (lockfileVersion 3) this reads. */
interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

export interface RepositoryPackage {
  version: string;
  license?: string;
  dependencies: Record<string, string>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

export interface PackedTarball {
  /** The dependency spec the project names it by, e.g. `file:../hpckv-0.1.0.tgz`. */
  spec: string;
  integrity: string;
}

/** Where Node finds `name` from the package at `from` (a lockfile path, '' for the root). */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (dir === '') return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

/** The repository lock's entries that `dependencies` reach, keyed by their paths. */
export function productionClosure(packages: Record<string, LockEntry>, dependencies: Record<string, string>): Record<string, LockEntry> {
  const reached: Record<string, LockEntry> = {};
  const queue: string[] = [];
  const add = (from: string, names: Record<string, string> | undefined, optional: boolean): void => {
    for (const name of Object.keys(names ?? {})) {
      const path = resolveIn(packages, from, name);
      if (path === undefined) {
        // An optional dependency for another platform may be absent from the lock.
        if (optional) continue;
        throw new Error(`the repository's lockfile has no ${name} for ${from === '' ? 'hpckv' : from}`);
      }
      if (reached[path] !== undefined) continue;
      reached[path] = packages[path]!;
      queue.push(path);
    }
  };
  add('', dependencies, false);
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    add(path, packages[path]!.dependencies, false);
    add(path, packages[path]!.optionalDependencies, true);
  }
  return reached;
}

/** The project's package-lock.json, as an object. */
export function productionLockfile(project: string, repositoryLock: { packages: Record<string, LockEntry> }, pkg: RepositoryPackage, tarball: PackedTarball): object {
  const hpckv = {
    version: pkg.version, resolved: tarball.spec, integrity: tarball.integrity, hasInstallScript: true,
    license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
  };
  return {
    name: project, version: '1.0.0', lockfileVersion: 3, requires: true,
    packages: {
      '': { name: project, version: '1.0.0', dependencies: { hpckv: tarball.spec } },
      'node_modules/hpckv': hpckv,
      ...productionClosure(repositoryLock.packages, pkg.dependencies),
    },
  };
}
