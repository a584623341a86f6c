/**
 * AWS Step Functions on loopback for one state machine taken from a synthesized template: an HTTP/1.1
 * server speaking the Step Functions JSON 1.0 API (`StartExecution`, `DescribeExecution`,
 * `SendTaskSuccess`, `SendTaskFailure`, `SendTaskHeartbeat`) that runs executions with
 * aws-local-stepfunctions. The real SDK clients of the inference and review handlers talk to it.
 *
 * aws-local-stepfunctions has no `.waitForTaskToken`: the broker here gives each execution a task token
 * (in the context object, so `$$.Task.Token` resolves), runs the task's Lambda, and then keeps the task
 * waiting until `SendTaskSuccess`/`SendTaskFailure` arrive, failing it with `States.HeartbeatTimeout`
 * when no heartbeat comes within the state's `HeartbeatSeconds` (the library enforces `TimeoutSeconds`).
 * Lambda tasks call a local function (the packaged handler); SNS publishes are recorded.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { StateMachine } from 'aws-local-stepfunctions';
import { LoopbackHttpServer } from './loopback-http-server';
import type { TemplateJson } from './template';

// biome-ignore lint/suspicious/noExplicitAny: ASL is plain JSON
type Json = any;

/** Resolves the CloudFormation intrinsics of a `DefinitionString` into plain ASL with stand-in ARNs. */
export function definitionFromTemplate(template: TemplateJson, logicalId: string, refs: Record<string, string> = {}) {
  const res = template.Resources[logicalId];
  if (res?.Type !== 'AWS::StepFunctions::StateMachine') throw new Error(`${logicalId} is not a state machine`);
  const resolve = (v: Json): string => {
    if (typeof v === 'string') return v;
    if (v.Ref !== undefined) {
      if (v.Ref === 'AWS::Partition') return 'aws';
      if (v.Ref === 'AWS::Region') return 'us-east-1';
      if (v.Ref === 'AWS::AccountId') return '111111111111';
      return refs[v.Ref] ?? `arn:aws:local:us-east-1:111111111111:${v.Ref}`;
    }
    if (v['Fn::GetAtt']) {
      const [id, attr] = v['Fn::GetAtt'] as [string, string];
      return refs[`${id}.${attr}`] ?? `arn:aws:lambda:us-east-1:111111111111:function:${id}`;
    }
    if (v['Fn::Join']) {
      const [sep, parts] = v['Fn::Join'] as [string, Json[]];
      return parts.map(resolve).join(sep);
    }
    throw new Error(`Unsupported intrinsic in definition: ${JSON.stringify(v).slice(0, 100)}`);
  };
  return JSON.parse(resolve((res.Properties as Json).DefinitionString)) as Json;
}

/** Where the stand-in carries a task's `HeartbeatSecondsPath` value to its broker (removed before the Lambda call). */
const HEARTBEAT_FIELD = '__standInHeartbeatSeconds';
/** Where it carries a task's `TimeoutSecondsPath` value (removed before the Lambda call too). */
const TIMEOUT_FIELD = '__standInTimeoutSeconds';

/**
 * Step Functions resolves `TimeoutSecondsPath` and `HeartbeatSecondsPath` against the state's input. A task handler
 * of aws-local-stepfunctions sees only the state's effective input (after Parameters), the library resolves
 * `TimeoutSecondsPath` against that same effective input, and it knows no heartbeats. So for each task with either
 * path, the path is added to its Parameters' payload (where the library resolves it against the state's input, as
 * Step Functions does), `TimeoutSecondsPath` is pointed at that field, and the broker reads the heartbeat from it.
 */
function withSecondsPaths(definition: Json): Json {
  const states = Object.fromEntries(
    Object.entries(definition.States as Record<string, Json>).map(([name, s]) => {
      const heartbeat = typeof s.HeartbeatSecondsPath === 'string' ? s.HeartbeatSecondsPath : undefined;
      const timeout = typeof s.TimeoutSecondsPath === 'string' ? s.TimeoutSecondsPath : undefined;
      if (s.Type !== 'Task' || !s.Parameters?.Payload || (!heartbeat && !timeout)) return [name, s];
      return [
        name,
        {
          ...s,
          ...(timeout ? { TimeoutSecondsPath: `$.Payload.${TIMEOUT_FIELD}` } : {}),
          Parameters: {
            ...s.Parameters,
            Payload: {
              ...s.Parameters.Payload,
              ...(heartbeat ? { [`${HEARTBEAT_FIELD}.$`]: heartbeat } : {}),
              ...(timeout ? { [`${TIMEOUT_FIELD}.$`]: timeout } : {}),
            },
          },
        },
      ];
    }),
  );
  return { ...definition, States: states };
}

class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

interface Waiting {
  resolve(v: Json): void;
  reject(e: Error): void;
  heartbeatMs?: number;
  timer?: NodeJS.Timeout;
}

export interface Execution {
  readonly name: string;
  readonly input: string;
  readonly token: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  output?: Json;
  error?: { name: string; cause?: string };
  readonly states: string[];
  readonly done: Promise<void>;
}

export class SfnStandIn extends LoopbackHttpServer {
  readonly executions = new Map<string, Execution>();
  readonly published: Array<{ TopicArn: string; Message: string; Subject?: string }> = [];
  readonly apiCalls: Array<{ operation: string; body: Json }> = [];
  private readonly waiting = new Map<string, Waiting>();
  private readonly closed = new Set<string>();
  private readonly aborts = new Set<() => void>();
  private stopped = false;
  /** Tokens whose task function has returned: the execution is really waiting for a callback. */
  private readonly ready = new Set<string>();
  /**
   * Records kept (API calls, publishes, ended executions and closed tokens; the oldest are dropped beyond it): a
   * long-running sandbox keeps memory bounded.
   */
  maxRecorded = Number.POSITIVE_INFINITY;
  /** How many of the next StartExecution calls fail with a 500 (to test hand-off recovery). */
  failNextStarts = 0;
  /** How many of the next SendTaskSuccess calls fail with a 500 (to test resuming a recorded decision). */
  failNextTaskSuccess = 0;

  private readonly machines = new Map<string, { definition: Json; lambda: (payload: Json) => Promise<Json> }>();
  /** Executions still running, for the journal: name → state machine and input. */
  private readonly running = new Map<string, { arn: string; input: string }>();

  /**
   * `journal`: a file where running executions are kept (a sandbox's), so that after a restart {@link resumeJournal}
   * runs them again from their start (their steps are idempotent: a review waiting for a decision gets a new task
   * token and keeps waiting).
   */
  constructor(private readonly opts: { journal?: string } = {}) {
    super();
  }

  /** Runs again the executions the journal holds (after every state machine is registered); returns how many. */
  resumeJournal(): number {
    if (!this.opts.journal) return 0;
    let kept: Record<string, { arn: string; input: string }> = {};
    try {
      kept = JSON.parse(fs.readFileSync(this.opts.journal, 'utf8'));
    } catch {
      return 0;
    }
    let resumed = 0;
    for (const [name, { arn, input }] of Object.entries(kept)) {
      const machine = this.machines.get(arn);
      if (!machine || this.executions.has(name)) continue;
      this.run(name, input, machine.definition, machine.lambda, arn);
      resumed++;
    }
    this.saveJournal();
    return resumed;
  }

  private saveJournal(): void {
    if (!this.opts.journal) return;
    fs.writeFileSync(this.opts.journal, JSON.stringify(Object.fromEntries(this.running)));
  }

  /**
   * Registers a state machine (or replaces its definition, e.g. a test shortening `TimeoutSeconds`; new
   * executions use it) and the function its Lambda tasks call.
   */
  register(arn: string, definition: Json, lambda: (payload: Json) => Promise<Json>): void {
    this.machines.set(arn, { definition, lambda });
  }

  definitionOf(arn: string): Json {
    return this.machines.get(arn)?.definition;
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      this.apiCalls.push({ operation, body });
      if (this.apiCalls.length > this.maxRecorded) this.apiCalls.shift();
      if (this.published.length > this.maxRecorded) this.published.shift();
      if (this.closed.size > this.maxRecorded) this.closed.delete(this.closed.values().next().value!);
      if (this.executions.size > this.maxRecorded) {
        for (const [name, ex] of this.executions) {
          if (this.executions.size <= this.maxRecorded) break;
          if (ex.status !== 'RUNNING') this.executions.delete(name);
        }
      }
      const send = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(payload));
      };
      try {
        send(200, this.operate(operation, body));
      } catch (e) {
        const err = e as SfnError;
        if (err.type === 'ServiceUnavailable') {
          send(503, { __type: 'ServiceUnavailable', message: err.message });
          return;
        }
        send(400, {
          __type: `com.amazonaws.swf.service.v2.model#${err.type ?? 'InternalError'}`,
          message: err.message,
        });
      }
    });
  }

  /** Stops the server and ends every running execution (so no task or execution timer outlives the test). */
  override async stop(): Promise<void> {
    this.stopped = true;
    for (const abort of this.aborts) abort();
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(Object.assign(new Error('The Step Functions stand-in stopped'), { name: 'States.Runtime' }));
    }
    this.waiting.clear();
    await super.stop();
  }

  /** Waits for an execution to end. */
  async finished(name: string): Promise<Execution> {
    for (let i = 0; i < 500 && !this.executions.has(name); i++) await new Promise((r) => setTimeout(r, 10));
    const ex = this.executions.get(name);
    if (!ex) throw new Error(`No execution ${name}`);
    await ex.done;
    return ex;
  }

  /** Waits until an execution is waiting for its task token. */
  async waitingFor(name: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const ex = this.executions.get(name);
      if (ex && this.waiting.has(ex.token) && this.ready.has(ex.token)) return;
      if (ex && ex.status !== 'RUNNING')
        throw new Error(
          `Execution ${name} ended (${ex.status}: ${ex.error?.name} ${ex.error?.cause}) after ${ex.states.join(' > ')} without waiting`,
        );
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`Execution ${name} never waited for a decision`);
  }

  private operate(op: string, body: Json): object {
    switch (op) {
      case 'StartExecution': {
        if (this.failNextStarts > 0) {
          this.failNextStarts--;
          throw new SfnError('ServiceUnavailable', 'Injected StartExecution failure');
        }
        const machine = this.machines.get(body.stateMachineArn);
        if (!machine) throw new SfnError('StateMachineDoesNotExist', `No state machine ${body.stateMachineArn}`);
        const existing = this.executions.get(body.name);
        if (existing) {
          if (existing.input !== body.input)
            throw new SfnError('ExecutionAlreadyExists', `Execution ${body.name} exists`);
        } else this.run(body.name, body.input, machine.definition, machine.lambda, body.stateMachineArn);
        return { executionArn: `${body.stateMachineArn}:${body.name}`, startDate: Date.now() / 1000 };
      }
      case 'SendTaskSuccess':
        if (this.failNextTaskSuccess > 0) {
          this.failNextTaskSuccess--;
          throw new SfnError('ServiceUnavailable', 'Injected SendTaskSuccess failure');
        }
        this.settle(body.taskToken, (w) => w.resolve(JSON.parse(body.output)));
        return {};
      case 'SendTaskFailure':
        this.settle(body.taskToken, (w) => w.reject(Object.assign(new Error(body.cause ?? ''), { name: body.error })));
        return {};
      case 'SendTaskHeartbeat': {
        const w = this.waiting.get(body.taskToken);
        if (!w)
          throw new SfnError(this.closed.has(body.taskToken) ? 'TaskTimedOut' : 'TaskDoesNotExist', 'No such task');
        this.armHeartbeat(body.taskToken, w);
        return {};
      }
      default:
        throw new SfnError('UnknownOperationException', `${op} is not supported here`);
    }
  }

  private settle(token: string, fn: (w: Waiting) => void): void {
    const w = this.waiting.get(token);
    if (!w) throw new SfnError(this.closed.has(token) ? 'TaskTimedOut' : 'TaskDoesNotExist', 'Task is not waiting');
    clearTimeout(w.timer);
    this.waiting.delete(token);
    this.closed.add(token);
    fn(w);
  }

  private armHeartbeat(token: string, w: Waiting): void {
    clearTimeout(w.timer);
    if (!w.heartbeatMs) return;
    w.timer = setTimeout(() => {
      this.waiting.delete(token);
      this.closed.add(token);
      w.reject(Object.assign(new Error('No heartbeat in time'), { name: 'States.HeartbeatTimeout' }));
    }, w.heartbeatMs);
  }

  private run(
    name: string,
    input: string,
    definition: Json,
    lambda: (payload: Json) => Promise<Json>,
    arn: string,
  ): void {
    const token = `tok-${name}-${Math.random().toString(36).slice(2)}`;
    const states: string[] = [];
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, s] of Object.entries(definition.States as Record<string, Json>)) {
      if (s.Type !== 'Task') continue;
      const resource = String(s.Resource);
      handlers[stateName] = async (params: Json) => {
        if (this.stopped)
          throw Object.assign(new Error('The Step Functions stand-in stopped'), { name: 'States.Runtime' });
        states.push(stateName);
        // Any later task means the execution moved on: a token still open is closed (timed out).
        if (!resource.endsWith('.waitForTaskToken') && this.waiting.has(token)) {
          clearTimeout(this.waiting.get(token)!.timer);
          this.waiting.delete(token);
          this.closed.add(token);
        }
        if (resource.includes(':sns:publish')) {
          this.published.push(params);
          return { MessageId: `msg-${states.length}` };
        }
        if (resource.endsWith('lambda:invoke')) return { Payload: await lambda(params.Payload) };
        if (resource.endsWith('lambda:invoke.waitForTaskToken')) {
          // `HeartbeatSecondsPath`: its value, which the rewritten Parameters put in the payload (see below).
          const { [HEARTBEAT_FIELD]: heartbeatFromPath, [TIMEOUT_FIELD]: _timeout, ...payload } = params.Payload ?? {};
          params = { ...params, Payload: payload };
          const heartbeatSeconds = s.HeartbeatSeconds ?? heartbeatFromPath;
          const wait = new Promise<Json>((resolve, reject) => {
            const w: Waiting = {
              resolve,
              reject,
              heartbeatMs: heartbeatSeconds ? heartbeatSeconds * 1000 : undefined,
            };
            this.waiting.set(token, w);
            this.armHeartbeat(token, w);
          });
          wait.catch(() => undefined);
          try {
            await lambda(params.Payload);
            this.ready.add(token);
          } catch (e) {
            this.settle(token, () => undefined);
            throw e;
          }
          return wait;
        }
        throw new Error(`No local handler for ${resource}`);
      };
    }
    const sm = new StateMachine(withSecondsPaths(definition), {
      validationOptions: { checkArn: false, checkPaths: true },
    });
    const retryIntervalOverrides = Object.fromEntries(Object.keys(handlers).map((k) => [k, 0]));
    const execution: Execution = {
      name,
      input,
      token,
      status: 'RUNNING',
      states,
      done: Promise.resolve(),
    };
    const run = sm.run(JSON.parse(input), {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
      context: { Execution: { Name: name }, Task: { Token: token } } as Json,
    });
    this.aborts.add(run.abort);
    (execution as { done: Promise<void> }).done = run.result.then(
      (output) => {
        execution.status = 'SUCCEEDED';
        execution.output = output;
      },
      (e: Json) => {
        execution.status = e?.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED';
        execution.error = { name: e?.cause?.name ?? e?.name, cause: e?.cause?.message ?? e?.message };
      },
    );
    void execution.done.finally(() => {
      this.aborts.delete(run.abort);
      // Stopped: the execution did not end, the stand-in did (the journal keeps it for the next start).
      if (!this.stopped && this.running.delete(name)) this.saveJournal();
    });
    this.executions.set(name, execution);
    if (this.opts.journal) {
      this.running.set(name, { arn, input });
      this.saveJournal();
    }
  }
}
