import { spawn } from 'node:child_process';

export interface RankResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `fixture` as rank `rank` of `size` (HPCKV_RANK/SIZE, as a launcher sets them) and collects its output. */
export function runRank(fixture: string, rank: number, size: number, args: string[]): Promise<RankResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', fixture, ...args], {
      env: { ...process.env, HPCKV_RANK: String(rank), HPCKV_SIZE: String(size) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    // 'close', not 'exit': only then has all of the child's output been read.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
