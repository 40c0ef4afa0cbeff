import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { ErrorCodes, errorFromWire, HpckvError } from '../core/errors.js';

/**
 * One `hpckv serve` process the local launcher (server/launcher.ts) started, and what it said:
 * its ready report, the typed error it reports over IPC when it fails (server/serve.ts), the
 * tail of its stderr, and how it ended, including whether the launcher had asked it to stop.
 */

/** How a server process of a local group ended. */
export interface RankExit {
  rank: number;
  pid: number | undefined;
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the launcher had asked it to stop; false: it exited by itself, crashed, or someone else killed it. */
  stopped: boolean;
}

/** How much of a rank's stderr is kept for an error report. */
const STDERR_TAIL_CHARS = 4000;

export class LaunchedRank {
  readonly rank: number;
  readonly child: ChildProcess;
  /** Settles once the process has ended and its last words on stderr have been read. */
  readonly exit: Promise<RankExit>;
  /** Resolves on its ready report; rejects if it ends first, with the error it reported if it did. */
  readonly ready: Promise<void>;
  #stderrTail = '';
  #failure: HpckvError | undefined;
  #stopAsked = false;

  constructor(rank: number, command: readonly string[], env: NodeJS.ProcessEnv, output: 'inherit' | 'pipe') {
    this.rank = rank;
    const [file, ...args] = command;
    this.child = spawn(file!, args, { env, stdio: ['ignore', output, output, 'ipc'] });
    this.child.stderr?.on('data', (chunk: Buffer) => { this.#stderrTail = (this.#stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS); });
    this.child.stdout?.resume();
    this.exit = new Promise<RankExit>((resolveExit) => {
      // 'close', not 'exit': by then its last words on stderr have been read.
      this.child.once('close', (code, signal) => resolveExit({ rank, pid: this.child.pid, code, signal, stopped: this.#stopAsked }));
    });
    this.ready = new Promise<void>((resolveReady, reject) => {
      this.child.on('message', (message: unknown) => {
        const report = typeof message === 'object' && message !== null ? message as { type?: unknown; error?: unknown } : {};
        if (report.type === 'ready') resolveReady();
        if (report.type === 'failed') this.#failure = errorFromWire(report.error);
      });
      void this.exit.then(({ code, signal }) => reject(this.#failure ?? new HpckvError(ErrorCodes.CONNECT_FAILED,
        `server rank ${rank} exited (code ${code}, signal ${signal}) before it was ready`, { retryable: false, details: { rank } })));
    });
    // A launch that fails rejects through the launcher; this keeps an unobserved rank from crashing the process.
    this.ready.catch(() => undefined);
  }

  /** The typed error the rank reported before it ended, if any. */
  get failure(): HpckvError | undefined {
    return this.#failure;
  }

  /** The end of what it wrote on stderr (only when its output is piped). */
  get stderrTail(): string {
    return this.#stderrTail.trim();
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM (it drains and closes its stores) unless it has ended already; its exit then counts as stopped. */
  stop(): void {
    this.holdOpen();
    if (!this.running) return;
    this.#stopAsked = true;
    this.child.kill('SIGTERM');
  }

  /** The process and its output pipes stop holding the launching process open. */
  letGo(): void {
    this.child.unref();
    (this.child.stdout as Socket | null)?.unref();
    (this.child.stderr as Socket | null)?.unref();
  }

  /** They hold it open again, until the process has exited and its output is read ('close'). */
  holdOpen(): void {
    this.child.ref();
    (this.child.stdout as Socket | null)?.ref();
    (this.child.stderr as Socket | null)?.ref();
  }
}
