/**
 * Runs a packaged Lambda handler (the `index.js` CDK bundled into cdk.out) the way Lambda does: in its own worker
 * (node:worker_threads) with its own environment (the function's, from the template, plus the local endpoints and
 * dummy credentials), kept warm and reused across invocations. An invocation that outlives the function's timeout
 * ends the worker (as Lambda ends the sandbox) and fails with `Task timed out`; the next one starts a fresh worker.
 * What the handler writes (its structured logs) goes to `log`, line by line, never to the terminal.
 */
import { Worker } from 'node:worker_threads';

/** The worker: loads the handler once, then answers `{ id, event, deadline }` messages. Plain JS (no loader). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let handler;
let initError;
try {
  handler = require(workerData.file)[workerData.exportName];
  if (typeof handler !== 'function') initError = new Error('Runtime.HandlerNotFound: ' + workerData.exportName);
} catch (e) { initError = e; }
parentPort.on('message', async (m) => {
  const context = {
    awsRequestId: m.requestId,
    functionName: workerData.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: workerData.functionArn,
    memoryLimitInMB: String(workerData.memoryMb),
    logGroupName: '/aws/lambda/' + workerData.functionName,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, m.deadline - Date.now()),
  };
  try {
    if (initError) throw initError;
    const result = await handler(m.event, context);
    parentPort.postMessage({ id: m.id, ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    parentPort.postMessage({ id: m.id, ok: false, error: { name: err.name, message: err.message, stack: err.stack } });
  }
});
`;

/** A function invocation that failed (the handler threw, or the function timed out). */
export class FunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

export interface FunctionSpec {
  /** The function's name (logs, context). */
  readonly name: string;
  /** The packaged handler file. */
  readonly file: string;
  /** The exported handler (`index.handler` → `handler`). */
  readonly exportName: string;
  /** The function's environment (complete: nothing of this process's environment is passed on). */
  readonly env: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

let seq = 0;

/** One function: a warm worker, started on first use. */
export class LocalFunction {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private stopped = false;

  constructor(
    readonly spec: FunctionSpec,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  get arn(): string {
    return `arn:aws:lambda:us-east-1:111111111111:function:${this.spec.name}`;
  }

  /** Invokes the handler with `event`; resolves with what it returned. */
  invoke(event: unknown): Promise<unknown> {
    if (this.stopped) return Promise.reject(new FunctionError(this.spec.name, 'ServiceException', 'stopped'));
    const worker = this.ensureWorker();
    const id = ++seq;
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new FunctionError(
            this.spec.name,
            'Sandbox.Timedout',
            `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`,
          ),
        );
        // Lambda ends the sandbox of a timed-out invocation; its other invocations fail with it.
        this.recycle(worker);
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, event, deadline: Date.now() + timeoutMs, requestId: `local-${Date.now()}-${id}` });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      env: this.spec.env,
      stdout: true,
      stderr: true,
      workerData: {
        file: this.spec.file,
        exportName: this.spec.exportName,
        functionName: this.spec.name,
        functionArn: this.arn,
        memoryMb: this.spec.memoryMb,
      },
      resourceLimits: { maxOldGenerationSizeMb: Math.max(128, this.spec.memoryMb) },
    });
    const lines = (stream: NodeJS.ReadableStream) => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          this.log(`[${this.spec.name}] ${buf.slice(0, nl)}`);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
        // A line without an end is cut at 64 KiB (bounded memory).
        if (buf.length > 65_536) {
          this.log(`[${this.spec.name}] ${buf}`);
          buf = '';
        }
      });
    };
    lines(worker.stdout);
    lines(worker.stderr);
    worker.on(
      'message',
      (m: { id: number; ok: boolean; result?: unknown; error?: { name: string; message: string } }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.result);
        else p.reject(new FunctionError(this.spec.name, m.error?.name ?? 'Error', m.error?.message ?? ''));
      },
    );
    worker.on('error', (e) => {
      this.log(`[${this.spec.name}] worker error: ${e.message}`);
      this.recycle(worker, e);
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.recycle(worker);
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Ends a worker and fails what it still had to answer. */
  private recycle(worker: Worker, cause?: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new FunctionError(this.spec.name, 'Runtime.ExitError', cause?.message ?? 'the function ended'));
    }
    void worker.terminate();
  }

  /** Ends the worker (pending invocations fail). */
  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    if (!w) return;
    this.recycle(w);
    await w.terminate();
  }
}
