import { spawn } from 'node:child_process';

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** The child's working directory (default: this process's). */
  cwd?: string;
  /** Kills the child (SIGKILL) if it runs longer, so a hung child never outlives its test. */
  timeoutMs?: number;
}

/** Runs a command and collects its output. */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<ScriptResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    // A command that cannot be started (ENOENT) still closes; its error is the stderr.
    child.on('error', (error) => { stderr += `${command}: ${error.message}\n`; });
    // 'close', not 'exit': only then has all of the child's output been read.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a compiled script in a child node (`--no-node-snapshot`) and collects its output. */
export function runScript(script: string, args: readonly string[], options: RunOptions = {}): Promise<ScriptResult> {
  return runCommand(process.execPath, ['--no-node-snapshot', script, ...args], options);
}
