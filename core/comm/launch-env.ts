import { ErrorCodes, HpckvError } from '../errors.js';

/**
 * Rank and size from the environment a launcher gives each process: hpckv's own launcher,
 * Open MPI's mpirun, a PMI launcher (MPICH's Hydra, Intel MPI) or Slurm's srun.
 */

export type Launcher = 'hpckv' | 'openmpi' | 'pmi' | 'slurm';

export interface LaunchInfo {
  rank: number;
  size: number;
  launcher: Launcher;
}

/** Checked in this order; the first whose rank variable is set wins. */
const FLAVOURS: ReadonlyArray<{ launcher: Launcher; rankVar: string; sizeVar: string }> = [
  { launcher: 'hpckv', rankVar: 'HPCKV_RANK', sizeVar: 'HPCKV_SIZE' },
  { launcher: 'openmpi', rankVar: 'OMPI_COMM_WORLD_RANK', sizeVar: 'OMPI_COMM_WORLD_SIZE' },
  { launcher: 'pmi', rankVar: 'PMI_RANK', sizeVar: 'PMI_SIZE' },
  { launcher: 'slurm', rankVar: 'SLURM_PROCID', sizeVar: 'SLURM_NTASKS' },
];

/**
 * Null when no launcher variables are set (empty counts as unset). A flavour counts as present when its rank variable
 * is set: a size alone is not a launch (an `salloc` shell exports SLURM_NTASKS to processes that
 * srun did not start). A malformed pair is HPCKV_ERR_BAD_CONFIG naming both variables.
 */
export function detectLaunch(env: NodeJS.ProcessEnv = process.env): LaunchInfo | null {
  for (const { launcher, rankVar, sizeVar } of FLAVOURS) {
    // An empty variable counts as unset (how a shell or a parent process clears one).
    const rankText = env[rankVar] || undefined;
    if (rankText === undefined) continue;
    const sizeText = env[sizeVar] || undefined;
    const bad = (why: string): HpckvError => new HpckvError(ErrorCodes.BAD_CONFIG,
      `launcher environment ${rankVar}=${rankText} ${sizeVar}=${sizeText ?? '(unset)'}: ${why}`,
      { details: { launcher, rankVar, sizeVar, rank: rankText, size: sizeText ?? null } });
    if (sizeText === undefined) throw bad(`${sizeVar} must be set with ${rankVar}`);
    const rank = parseCount(rankText);
    const size = parseCount(sizeText);
    if (rank === undefined) throw bad(`${rankVar} must be a non-negative integer`);
    if (size === undefined || size < 1) throw bad(`${sizeVar} must be a positive integer`);
    if (rank >= size) throw bad(`${rankVar} must be less than ${sizeVar}`);
    return { rank, size, launcher };
  }
  return null;
}

function parseCount(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : undefined;
}
