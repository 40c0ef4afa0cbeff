import { fork, type ChildProcess } from 'node:child_process';
import { errorFromWire, ErrorCodes, HpckvError } from '../core/errors.js';
import type { SandboxProcessInit, SandboxReply, SandboxRequest } from './sandbox-messages.js';

type RequestBody = SandboxRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface SandboxAnswer {
  value: unknown;
  cpuMs: number;
  compiled: boolean;
}

interface Pending {
  resolve(answer: SandboxAnswer): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The host's handle on one sandbox process (sandbox-process-main.ts): requests over IPC, each
 * answered once. When the process ends (a fatal reply, a crash, a kill), every pending request
 * fails with HPCKV_ERR_PROCEDURE_MEMORY (V8's out-of-memory abort is what ends it in practice) and
 * `onEnd` runs once so the pool can start a replacement.
 */
export class SandboxProcess {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended = false;

  private constructor(private readonly child: ChildProcess, private readonly onEnd: (process: SandboxProcess) => void) {
    child.on('message', (reply: SandboxReply) => this.receive(reply));
    child.on('exit', (code, signal) => this.end(`sandbox process ended (${signal ?? `exit code ${code}`})`));
    child.on('error', () => this.end('sandbox process failed'));
    child.stderr?.resume(); // V8 prints its out-of-memory report there; drop it
  }

  static spawn(init: SandboxProcessInit, onEnd: (process: SandboxProcess) => void): Promise<SandboxProcess> {
    const child = fork(new URL('./sandbox-process-main.js', import.meta.url), [JSON.stringify(init)], {
      execArgv: ['--no-node-snapshot'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const onReady = (reply: SandboxReply): void => {
        if (!('ready' in reply)) return;
        child.off('message', onReady);
        child.off('exit', onExit);
        resolve(new SandboxProcess(child, onEnd));
      };
      const onExit = (code: number | null): void => {
        reject(new HpckvError(ErrorCodes.INTERNAL, `sandbox process did not start (exit code ${code})`));
      };
      child.on('message', onReady);
      child.on('exit', onExit);
    });
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Sends a request; if no answer comes within `watchdogMs` the process is killed (and replaced). */
  request(body: RequestBody, watchdogMs?: number): Promise<SandboxAnswer> {
    if (this.ended) return Promise.reject(lostError('the sandbox process of this job ended'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = watchdogMs === undefined ? undefined : setTimeout(() => {
        this.pending.delete(id);
        reject(new HpckvError(ErrorCodes.PROCEDURE_TIMEOUT, `sandbox process did not answer within ${watchdogMs} ms; it is replaced`,
          { details: { limit: 'procedureWallMsMax' } }));
        this.kill();
      }, watchdogMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ ...body, id } as SandboxRequest);
    });
  }

  /** Fire and forget (a job's dispose). */
  notify(body: RequestBody): void {
    if (!this.ended) this.child.send({ ...body, id: 0 } as SandboxRequest);
  }

  kill(): void {
    if (!this.ended) this.child.kill('SIGKILL');
  }

  private receive(reply: SandboxReply): void {
    if ('ready' in reply) return;
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) {
      pending.resolve({ value: reply.value, cpuMs: reply.cpuMs, compiled: reply.compiled });
      return;
    }
    const error = errorFromWire(reply.error);
    (error as { cpuMs?: number }).cpuMs = reply.cpuMs;
    pending.reject(error);
    if (reply.fatal) this.end('the isolate ran out of memory');
  }

  private end(why: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(lostError(why));
    }
    this.pending.clear();
    this.kill();
    this.onEnd(this);
  }
}

function lostError(why: string): HpckvError {
  return new HpckvError(ErrorCodes.PROCEDURE_MEMORY, `${why}: most likely a procedure exceeded its isolate memory; the isolate is replaced`,
    { details: { limit: 'procedureIsolateMemoryMbMax' } });
}
