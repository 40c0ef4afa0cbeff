import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/hpckv.js', import.meta.url));

/**
 * Starts rank `rank` of a group again (hpckv serve --rejoin) and resolves once it reports ready.
 * `env` is added to this process's environment (test hooks).
 */
export function rejoinRank(groupFile: string, rank: number, dataDir: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = fork(CLI, ['serve', '--rejoin', groupFile, '--rank', String(rank), '--data', dataDir],
    { execArgv: ['--no-node-snapshot'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return new Promise((resolve, reject) => {
    child.on('message', (message: { type?: string }) => { if (message.type === 'ready') resolve(child); });
    child.once('exit', (code) => reject(new Error(`rejoined rank exited (${code}): ${stderr}`)));
  });
}
