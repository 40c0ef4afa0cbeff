import { fork, type ChildProcess } from 'node:child_process';
import { errorFromWire, ErrorCodes, HpckvError } from '../core/errors.js';
import type { SandboxProcessInit, SandboxReply, SandboxRequest } from './sandbox-messages.js';
import { SandboxLost } from './sandbox-lost.js';

type RequestBody = SandboxRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface SandboxAnswer {
  value: unknown;
  cpuMs: number;
  compiled: boolean;
}

interface Pending {
  /** The job the request belongs to (none for a compile). */
  jobId: number | undefined;
  watchdogMs: number | undefined;
  resolve(answer: SandboxAnswer): void;
  reject(error: unknown): void;
}

/** The call that ended the process, and the error every call of its job fails with. */
interface Culprit {
  jobId: number | undefined;
  error: HpckvError;
}

/**
 * The host's handle on one sandbox process (sandbox-process-main.ts): requests over IPC, each
 * answered once. The process runs them one at a time in the order sent (IsolateRunner serializes
 * every compile, start and call), so the oldest pending request is the one running: the watchdog
 * watches it alone, from when the one before it was answered, and when the process ends it is the
 * culprit. The culprit's job fails with the culprit's error (a fatal reply's, the watchdog's
 * HPCKV_ERR_PROCEDURE_TIMEOUT, or HPCKV_ERR_PROCEDURE_MEMORY for a process that just died: V8's
 * out-of-memory abort is what ends it in practice); every other pending request is a bystander
 * and fails with SandboxLost, which its caller may retry on the replacement. `onEnd` runs once,
 * before the bystanders hear of it, so the pool's replacement is already under way.
 */
export class SandboxProcess {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended = false;
  private watchdog: NodeJS.Timeout | undefined;
  private culprit: Culprit | undefined;

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

  /** Sends a request; if it runs `watchdogMs` without an answer, the process is killed (and replaced). */
  request(body: RequestBody, watchdogMs?: number): Promise<SandboxAnswer> {
    if (this.ended) return Promise.reject(new SandboxLost('the sandbox process of this job ended'));
    const id = this.nextId++;
    const jobId = 'jobId' in body ? body.jobId : undefined;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { jobId, watchdogMs, resolve, reject });
      if (this.pending.size === 1) this.watchRunning();
      this.child.send({ ...body, id } as SandboxRequest);
    });
  }

  /** Arms the watchdog for the request running now (the oldest pending one). */
  private watchRunning(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const [running] = this.pending;
    if (running === undefined || running[1].watchdogMs === undefined) return;
    const [id, { watchdogMs }] = running;
    this.watchdog = setTimeout(() => {
      const error = new HpckvError(ErrorCodes.PROCEDURE_TIMEOUT, `sandbox process did not answer within ${watchdogMs} ms; it is replaced`,
        { details: { limit: 'procedureWallMsMax' } });
      this.blame(id, error);
      this.kill();
    }, watchdogMs);
  }

  /** The request `id` ended the process: it fails now with `error`, and so does the rest of its job (in end). */
  private blame(id: number, error: HpckvError): void {
    const pending = this.pending.get(id);
    this.culprit ??= { jobId: pending?.jobId, error };
    this.pending.delete(id);
    pending?.reject(error);
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
    if (reply.ok) {
      this.pending.delete(reply.id);
      this.watchRunning();
      pending.resolve({ value: reply.value, cpuMs: reply.cpuMs, compiled: reply.compiled });
      return;
    }
    const error = errorFromWire(reply.error);
    (error as { cpuMs?: number }).cpuMs = reply.cpuMs;
    if (reply.fatal) {
      this.blame(reply.id, error);
      this.end('the isolate ran out of memory');
      return;
    }
    this.pending.delete(reply.id);
    this.watchRunning();
    pending.reject(error);
  }

  private end(why: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.watchdog);
    const [running] = this.pending;
    if (running !== undefined && this.culprit === undefined) this.blame(running[0], lostError(why));
    this.child.kill('SIGKILL'); // `kill` is a no-op once ended; a process that reported its isolate lost may linger
    this.onEnd(this);
    for (const { jobId, reject } of this.pending.values()) {
      reject(jobId !== undefined && jobId === this.culprit?.jobId ? this.culprit.error : new SandboxLost(why));
    }
    this.pending.clear();
  }
}

function lostError(why: string): HpckvError {
  return new HpckvError(ErrorCodes.PROCEDURE_MEMORY, `${why}: most likely a procedure exceeded its isolate memory; the isolate is replaced`,
    { details: { limit: 'procedureIsolateMemoryMbMax' } });
}
