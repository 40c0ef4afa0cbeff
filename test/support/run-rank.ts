import { runScript, type ScriptResult } from './run-script.js';

export type RankResult = ScriptResult;

/** Runs `fixture` as rank `rank` of `size` (HPCKV_RANK/SIZE, as a launcher sets them) and collects its output. */
export function runRank(fixture: string, rank: number, size: number, args: string[]): Promise<RankResult> {
  return runScript(fixture, args, { env: { ...process.env, HPCKV_RANK: String(rank), HPCKV_SIZE: String(size) } });
}
