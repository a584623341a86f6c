/**
 * A fault-injecting HTTP proxy in front of dynalite: the real SDK client talks to it as to DynamoDB, and a
 * rule decides per call whether to forward it or answer with a DynamoDB error (throughput exceeded, 500,
 * 503) in the service's JSON 1.0 wire format. Used for the DynamoDB faults (bursts of throttling, the
 * service unavailable while settling). Every call is recorded with what happened to it.
 *
 * A `gate` (set by a pool cell's tests, test/support/pool-cell.ts) is asked first and may refuse a call as IAM
 * would (`AccessDeniedException`): dynalite checks no permissions. Its refusals are logged as `denied`, not as
 * injected faults.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy sees of a call. */
export interface DynamoCall {
  /** `PutItem`, `UpdateItem`, `GetItem`, ... */
  readonly operation: string;
  /** The request body (JSON). */
  readonly body: Record<string, unknown>;
  /** The access key id the call is signed with (SigV4 `Credential=`), '' when unsigned. */
  readonly accessKeyId: string;
}

/** An injected failure. */
export interface DynamoFault {
  readonly status: number;
  /** e.g. `ProvisionedThroughputExceededException`, `InternalServerError`, `ServiceUnavailable`. */
  readonly type: string;
  /**
   * Forward the call first and answer with the fault only after DynamoDB applied it: the write happened
   * but its response was lost, so the SDK's retry meets its own write (the case conditional writes must
   * tell apart from a real conflict).
   */
  readonly afterApplying?: boolean;
  /** Never answer (the connection stays open until the client gives up or the proxy stops). */
  readonly hang?: boolean;
}

export const THROUGHPUT_EXCEEDED: DynamoFault = { status: 400, type: 'ProvisionedThroughputExceededException' };
export const INTERNAL_ERROR: DynamoFault = { status: 500, type: 'InternalServerError' };
export const HANG: DynamoFault = { status: 0, type: 'Hang', hang: true };

/** IAM's refusal of a call (the gate's answer). */
export const ACCESS_DENIED: DynamoFault = { status: 400, type: 'AccessDeniedException' };

/** True when a call writes or reads the month usage counter item (a silo's, or a pooled tenant's `T#<id>#USAGE#`). */
export function touchesUsageCounter(call: DynamoCall): boolean {
  const key = call.body.Key as { pk?: { S?: string } } | undefined;
  return /^(T#[a-z0-9-]+#)?USAGE#/.test(key?.pk?.S ?? '');
}

export class DynamoFaultProxy {
  readonly log: Array<{ operation: string; faulted: boolean; denied?: boolean }> = [];
  private server?: http.Server;
  private rule: (call: DynamoCall) => DynamoFault | undefined = () => undefined;
  /** Asked before the rule; a fault it answers is IAM's refusal (kept by `clear`). */
  gate: (call: DynamoCall) => DynamoFault | undefined = () => undefined;
  /** Sees every call (kept by `clear`). */
  observer: (call: DynamoCall, outcome: 'forwarded' | 'faulted' | 'denied') => void = () => undefined;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return this.endpoint;
  }

  get endpoint(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('proxy not started');
    return `http://127.0.0.1:${addr.port}`;
  }

  /** Sets the rule (return a fault to inject it, undefined to forward). */
  inject(rule: (call: DynamoCall) => DynamoFault | undefined): void {
    this.rule = rule;
  }

  clear(): void {
    this.rule = () => undefined;
    this.log.length = 0;
  }

  faults(operation?: string): number {
    return this.log.filter((l) => l.faulted && (!operation || l.operation === operation)).length;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw.toString('utf8') || '{}');
      } catch {
        // Forward as is; dynalite answers with its own validation error.
      }
      const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
      const call: DynamoCall = { operation, body, accessKeyId };
      let denied: DynamoFault | undefined;
      try {
        denied = this.gate(call);
      } catch (e) {
        // A gate that cannot decide refuses (and says why), so a test fails instead of hanging.
        denied = { status: 500, type: 'InternalServerError' };
        process.stderr.write(`dynamo-fault-proxy: gate failed: ${(e as Error)?.stack ?? e}\n`);
      }
      const fault = denied ?? this.rule(call);
      this.log.push({ operation, faulted: !!fault && !denied, ...(denied ? { denied: true } : {}) });
      this.observer(call, denied ? 'denied' : fault ? 'faulted' : 'forwarded');
      const answerFault = (fault: DynamoFault) => {
        res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`,
            message: `${fault.type} injected by the test proxy`,
          }),
        );
      };
      if (fault?.hang) return;
      if (fault && !fault.afterApplying) {
        answerFault(fault);
        return;
      }
      const url = new URL(req.url ?? '/', this.target);
      const headers = { ...req.headers, host: url.host, 'content-length': String(raw.length) };
      const up = http.request(url, { method: req.method, headers }, (upRes) => {
        if (fault) {
          upRes.resume();
          upRes.on('end', () => answerFault(fault));
          return;
        }
        res.writeHead(upRes.statusCode ?? 500, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', (e) => {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: e.message }));
      });
      up.end(raw);
    });
  }
}
