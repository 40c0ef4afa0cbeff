import { errorToWire, ErrorCodes, HpckvError } from '../core/errors.js';
import type { KeyType } from '../core/keys/index.js';
import { IsolateRunner, RunnerFailure } from './isolate-runner.js';
import type { SandboxProcessInit, SandboxReply, SandboxRequest } from './sandbox-messages.js';

/**
 * The process that holds one procedure isolate (forked by SandboxProcess). V8 aborts a whole
 * process on some out-of-memory paths that isolated-vm cannot catch (one huge allocation, a Map
 * or a dictionary array growing inside a single builtin), so each isolate lives in a process of
 * its own: such a bomb ends this process, not the server, and the pool starts another.
 */
async function main(): Promise<void> {
  const init = JSON.parse(process.argv[2] ?? '{}') as SandboxProcessInit;
  const runner = await IsolateRunner.create(init.isolateMemoryMbMax, init.keyType as KeyType, init.compiledProceduresMax);
  const send = (reply: SandboxReply, then?: () => void): void => {
    process.send!(reply, undefined, {}, () => then?.());
  };
  process.on('message', (request: SandboxRequest) => {
    void handle(runner, request).then(
      ({ value, cpuMs, compiled }) => send({ id: request.id, ok: true, value, cpuMs, compiled }),
      (error: unknown) => {
        const failure = error instanceof RunnerFailure ? error : undefined;
        const fatal = failure?.fatal === true || runner.disposed;
        const wire = errorToWire(failure?.error ?? error);
        send({ id: request.id, ok: false, error: wire, fatal, cpuMs: failure?.cpuMs ?? 0 }, fatal ? () => process.exit(3) : undefined);
      });
  });
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}

async function handle(runner: IsolateRunner, request: SandboxRequest): Promise<{ value: unknown; cpuMs: number; compiled: boolean }> {
  switch (request.op) {
    case 'compile': {
      const { compiled } = await runner.compile(request.hash, request.spec, request.timeoutMs);
      return { value: null, cpuMs: 0, compiled };
    }
    case 'start': {
      const { compiled, cpuMs } = await runner.startJob(request.jobId, request.hash, request.spec, request.args, request.budget,
        request.cpuMsSpent);
      return { value: null, cpuMs, compiled };
    }
    case 'call': {
      const { value, cpuMs } = await runner.call(request.jobId, request.call, request.input);
      return { value, cpuMs, compiled: false };
    }
    case 'dispose':
      runner.disposeJob(request.jobId);
      return { value: null, cpuMs: 0, compiled: false };
    default:
      throw new HpckvError(ErrorCodes.INTERNAL, `unknown sandbox request ${(request as { op: string }).op}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
