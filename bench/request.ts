/**
 * Warm per-request overhead of the bundled inference handler. The Bedrock stub (HTTP/2) and dynalite run
 * in this process; the bundle is required once and driven with API Gateway proxy events. The baseline
 * makes the same round trips with no SDK and no handler code: one Converse-shaped HTTP/2 call to the stub
 * and the same three DynamoDB JSON-protocol calls (PutItem create, UpdateItem finish, UpdateItem usage)
 * with `fetch` to dynalite. Both sides alternate in blocks so machine drift hits them alike.
 */
import { randomUUID } from 'node:crypto';
import * as http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { LEDGER_KEYS } from '../lambda/shared/ledger-schema';
import type { TenantRuntimeConfig } from '../lambda/shared/tenant-runtime';
import { bundleHandler } from '../lib/constructs/bundling';
import { BedrockStub } from '../test/support/bedrock-stub';
import { DynaliteServer } from '../test/support/dynalite-server';
import { handlerEnv } from './bundle';
import { atMost, type Check, percentile, round } from './stats';

export type ProxyHandler = (event: APIGatewayProxyEvent, context?: Partial<Context>) => Promise<APIGatewayProxyResult>;

export interface Latency {
  readonly n: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

export interface RequestResults {
  readonly warmup: number;
  readonly requests: number;
  readonly blockSize: number;
  readonly handler: Latency;
  readonly baseline: Latency;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
  readonly p50OverheadMs: number;
  readonly checks: Check[];
}

const TABLE = 'bench-ledger';
const PROMPT = 'Summarise the quarterly report in three sentences for the finance team.';

export function latency(xs: readonly number[]): Latency {
  return {
    n: xs.length,
    p50Ms: round(percentile(xs, 50), 3),
    p90Ms: round(percentile(xs, 90), 3),
    p99Ms: round(percentile(xs, 99), 3),
    meanMs: round(xs.reduce((a, b) => a + b, 0) / xs.length, 3),
  };
}

let seq = 0;
export function proxyEvent(body: unknown): APIGatewayProxyEvent {
  seq++;
  return {
    resource: '/v1/inference',
    path: '/v1/inference',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'bench-key' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: `gw-${seq}`, stage: 'live' } as APIGatewayProxyEvent['requestContext'],
  };
}

export function lambdaContext(): Partial<Context> {
  const end = Date.now() + 29_000;
  return { awsRequestId: `lambda-${seq}`, getRemainingTimeInMillis: () => end - Date.now() };
}

/** A JS value as a DynamoDB AttributeValue (the JSON protocol's wire shape). */
function av(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { NULL: true };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (Array.isArray(v)) return { L: v.map(av) };
  return { M: item(v as Record<string, unknown>) };
}

function item(o: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = av(v);
  return out;
}

/** The handler's I/O per request, with plain `node:http2` and `fetch`. */
class Baseline {
  private readonly session: http2.ClientHttp2Session;

  constructor(
    bedrockEndpoint: string,
    private readonly dynamoEndpoint: string,
    private readonly config: TenantRuntimeConfig,
  ) {
    this.session = http2.connect(bedrockEndpoint);
  }

  close(): void {
    this.session.close();
  }

  private async dynamo(op: string, body: unknown): Promise<unknown> {
    const now = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const res = await fetch(this.dynamoEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${op}`,
        'x-amz-date': now,
        // dynalite checks the header's shape, not the signature.
        authorization: `AWS4-HMAC-SHA256 Credential=bench/${now.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=abc`,
      },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`baseline ${op} failed: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  private converse(modelId: string, body: unknown): Promise<{ usage: { inputTokens: number; outputTokens: number } }> {
    return new Promise((resolve, reject) => {
      const req = this.session.request({
        ':method': 'POST',
        ':path': `/model/${encodeURIComponent(modelId)}/converse`,
        'content-type': 'application/json',
      });
      const chunks: Buffer[] = [];
      let status = 0;
      req.on('response', (h) => {
        status = Number(h[':status']);
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', reject);
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (status !== 200) reject(new Error(`baseline converse failed: ${status} ${text}`));
        else resolve(JSON.parse(text));
      });
      req.end(JSON.stringify(body));
    });
  }

  /**
   * UpdateItem (budget reservation), PutItem (create), Converse, UpdateItem (finish), UpdateItem (settle):
   * what a keyless request does.
   */
  async request(prompt: string): Promise<void> {
    const tier = this.config.defaultTier;
    const modelId = this.config.tierModels[tier]!;
    const requestId = `req_${randomUUID().replace(/-/g, '')}`;
    const now = Date.now();
    const at = new Date(now).toISOString();
    const month = at.slice(0, 7);
    const key = { [LEDGER_KEYS.partitionKey]: `REQ#${requestId}`, [LEDGER_KEYS.sortKey]: 'REQUEST' };
    const rsv = `rsv_${requestId}.1.bench.1`;
    await this.dynamo('UpdateItem', {
      TableName: TABLE,
      Key: item({ [LEDGER_KEYS.partitionKey]: `USAGE#${month}`, [LEDGER_KEYS.sortKey]: 'TOTAL' }),
      UpdateExpression: 'SET #rsv = :entry ADD #committed :nano, #reserved :nano',
      ConditionExpression: '(attribute_not_exists(#committed) OR #committed <= :max) AND attribute_not_exists(#rsv)',
      ExpressionAttributeNames: { '#rsv': rsv, '#committed': 'committedNanoUsd', '#reserved': 'reservedNanoUsd' },
      ExpressionAttributeValues: {
        ':entry': av({ requestId, nanoUsd: 5000, at: now }),
        ':nano': av(5000),
        ':max': av(10 ** 15),
      },
    });
    await this.dynamo('PutItem', {
      TableName: TABLE,
      Item: item({
        ...key,
        requestId,
        tenantId: this.config.tenantId,
        status: 'in_progress',
        createdAt: at,
        updatedAt: at,
        month,
        tier,
        modelId,
        routeReason: `auto: tenant default tier ${tier}`,
        bodyHash: '0'.repeat(64),
        runs: 1,
        inputTokens: 0,
        outputTokens: 0,
        costNanoUsd: 0,
        attempts: [],
        expiresAt: Math.floor(now / 1000) + this.config.dataRetentionDays * 86400,
      }),
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': LEDGER_KEYS.partitionKey },
    });
    const reply = await this.converse(modelId, {
      messages: [{ role: 'user', content: [{ text: prompt }] }],
      inferenceConfig: { maxTokens: this.config.limits.defaultMaxTokens },
    });
    const outcome: Record<string, unknown> = {
      status: 'completed',
      updatedAt: new Date().toISOString(),
      tier,
      modelId,
      inputTokens: reply.usage.inputTokens,
      outputTokens: reply.usage.outputTokens,
      costNanoUsd: 1000,
      latencyMs: 1,
      output: 'stub answer',
      confidence: null,
      escalated: false,
      attempts: [{ tier, modelId, outcome: 'ok', inputTokens: 1, outputTokens: 1, costUsd: 0.000001, latencyMs: 1 }],
    };
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, Record<string, unknown>> = { ':inProgress': av('in_progress') };
    const sets: string[] = [];
    for (const [k, v] of Object.entries(outcome)) {
      names[`#${k}`] = k;
      values[`:${k}`] = av(v);
      sets.push(`#${k} = :${k}`);
    }
    await this.dynamo('UpdateItem', {
      TableName: TABLE,
      Key: item(key),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: '#status = :inProgress',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    const add: Record<string, number> = {
      requests: 1,
      inputTokens: reply.usage.inputTokens,
      outputTokens: reply.usage.outputTokens,
      costNanoUsd: 1000,
    };
    const un: Record<string, string> = {};
    const uv: Record<string, Record<string, unknown>> = {};
    const parts: string[] = [];
    let i = 0;
    for (const [k, v] of Object.entries(add)) {
      for (const attr of [k, `tier_${tier}_${k}`]) {
        un[`#a${i}`] = attr;
        uv[`:v${i}`] = av(v);
        parts.push(`#a${i} :v${i}`);
        i++;
      }
    }
    await this.dynamo('UpdateItem', {
      TableName: TABLE,
      Key: item({ [LEDGER_KEYS.partitionKey]: `USAGE#${month}`, [LEDGER_KEYS.sortKey]: 'TOTAL' }),
      UpdateExpression: `ADD ${parts.join(', ')} REMOVE #rsv`,
      ConditionExpression: 'attribute_exists(#rsv)',
      ExpressionAttributeNames: { ...un, '#rsv': rsv },
      ExpressionAttributeValues: uv,
      ReturnValues: 'UPDATED_NEW',
    });
  }
}

/** Runs `fn` with stdout swallowed (the handler logs two lines per request); returns how many writes it ate. */
export async function quietly(fn: () => Promise<void>): Promise<number> {
  const original = process.stdout.write;
  let lines = 0;
  process.stdout.write = ((..._args: unknown[]) => {
    lines++;
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = original;
  }
  return lines;
}

export async function benchRequests(
  opts: { warmup?: number; requests?: number; blockSize?: number; log?: (s: string) => void } = {},
): Promise<RequestResults> {
  const warmup = opts.warmup ?? 50;
  const requests = opts.requests ?? 300;
  const blockSize = opts.blockSize ?? 50;
  const log = opts.log ?? (() => {});
  const stub = new BedrockStub();
  const dyn = new DynaliteServer();
  const bedrockEndpoint = await stub.start();
  const dynamoEndpoint = await dyn.start();
  let baseline: Baseline | undefined;
  try {
    // Dummy credentials, region and the loopback endpoints: for the setup client and for the bundle's init.
    const env = handlerEnv({ bedrock: bedrockEndpoint, dynamodb: dynamoEndpoint }, TABLE);
    Object.assign(process.env, env);
    await dyn.createTableFromTemplate(
      {
        Resources: {
          Ledger: {
            Type: 'AWS::DynamoDB::Table',
            Properties: {
              KeySchema: [
                { AttributeName: LEDGER_KEYS.partitionKey, KeyType: 'HASH' },
                { AttributeName: LEDGER_KEYS.sortKey, KeyType: 'RANGE' },
              ],
              AttributeDefinitions: [
                { AttributeName: LEDGER_KEYS.partitionKey, AttributeType: 'S' },
                { AttributeName: LEDGER_KEYS.sortKey, AttributeType: 'S' },
              ],
            },
          },
        },
      },
      'Ledger',
      TABLE,
    );
    const config = JSON.parse(env.TENANT_CONFIG) as TenantRuntimeConfig;
    const { handler } = require(bundleHandler('inference').file) as { handler: ProxyHandler };
    baseline = new Baseline(bedrockEndpoint, dynamoEndpoint, config);
    const base = baseline;

    const callHandler = async () => {
      const res = await handler(proxyEvent({ prompt: PROMPT }), lambdaContext());
      if (res.statusCode !== 200) throw new Error(`handler answered ${res.statusCode}: ${res.body}`);
    };
    const handlerMs: number[] = [];
    const baselineMs: number[] = [];
    const timed = async (fn: () => Promise<void>, into: number[], n: number) => {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await fn();
        into.push(performance.now() - t0);
      }
    };
    const lines = await quietly(async () => {
      await timed(callHandler, [], warmup);
      await timed(() => base.request(PROMPT), [], warmup);
      for (let done = 0; done < requests; done += blockSize) {
        const n = Math.min(blockSize, requests - done);
        await timed(callHandler, handlerMs, n);
        await timed(() => base.request(PROMPT), baselineMs, n);
      }
    });
    const converseCalls = stub.calls.length;
    stub.calls.length = 0;
    log(
      `  requests: ${handlerMs.length} handler + ${baselineMs.length} baseline timed; ${converseCalls} Converse calls; ${lines} handler log writes swallowed`,
    );
    const h = latency(handlerMs);
    const b = latency(baselineMs);
    const p50Ratio = round(h.p50Ms / b.p50Ms, 3);
    return {
      warmup,
      requests,
      blockSize,
      handler: h,
      baseline: b,
      p50Ratio,
      p99Ratio: round(h.p99Ms / b.p99Ms, 3),
      p50OverheadMs: round(h.p50Ms - b.p50Ms, 3),
      checks: [
        atMost(
          'request.p50.ratio',
          'Warm request p50: handler / plain round trips',
          p50Ratio,
          2,
          '×',
          '≤ 2×',
          `handler p50 ${h.p50Ms} ms, p99 ${h.p99Ms} ms; baseline p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms`,
        ),
      ],
    };
  } finally {
    baseline?.close();
    await stub.stop();
    await dyn.stop();
  }
}
