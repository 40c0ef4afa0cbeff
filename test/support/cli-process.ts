import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runScript, type ScriptResult } from './run-script.js';

/** The compiled CLI (tests run from dist/test/<folder>/). */
export const HPCKV_CLI = fileURLToPath(new URL('../../bin/hpckv.js', import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  /** Settles when it has exited and all its output has been read. */
  done: Promise<ScriptResult>;
  /** The first stdout line matching `pattern` (waits on output events, never polls). */
  line: (pattern: RegExp) => Promise<string>;
  /** The first stderr line matching `pattern`. */
  errorLine: (pattern: RegExp) => Promise<string>;
}

/** Starts `hpckv ARGS` (the environment overlaid with `env`) and watches its output. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--no-node-snapshot', HPCKV_CLI, ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  const watchers: Array<() => void> = [];
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer): void => {
    output[stream] += chunk.toString();
    for (const watch of watchers) watch();
  };
  child.stdout!.on('data', collect('stdout'));
  child.stderr!.on('data', collect('stderr'));
  const done = new Promise<ScriptResult>((resolve) => child.on('close', (code) => resolve({ code, ...output })));
  const waitFor = (stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      const found = output[stream].split('\n').find((l) => pattern.test(l));
      if (found !== undefined) resolve(found);
    };
    watchers.push(check);
    check();
    void done.then((r) => reject(new Error(`exited ${r.code} before printing ${pattern}: ${r.stderr}`)));
  });
  return { child, done, line: (pattern) => waitFor('stdout', pattern), errorLine: (pattern) => waitFor('stderr', pattern) };
}

/** Runs `hpckv ARGS` to its end. */
export function runCli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<ScriptResult> {
  return runScript(HPCKV_CLI, args, env === undefined ? {} : { env: { ...process.env, ...env } });
}

/** The group file path `hpckv launch` prints once its group is up. */
export async function launchedGroupFile(launch: CliProcess): Promise<string> {
  const ready = await launch.line(/group file: /);
  return ready.slice(ready.indexOf('group file: ') + 'group file: '.length).trim();
}
