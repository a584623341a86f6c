/**
 * The inference service wired to real adapters and real local servers: the AWS SDK's Bedrock Runtime
 * client against the h2c Bedrock stand-in, the DynamoDB DocumentClient against dynalite (through the
 * fault proxy), the real router and confidence scorer. Used by the fault, budget and cascade tests, which
 * need to set the tenant's thresholds, the deadline and the clock per test.
 *
 * The SDK clients keep their retry behaviour (attempt counts as in the handler) with short backoff delays
 * so that 50-request fault runs stay fast; the retry path is the SDK's own.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { makeBedrockInvoker } from '../../lambda/inference/adapters/bedrock-invoker';
import { makeDynamoLedger } from '../../lambda/inference/adapters/dynamo-ledger';
import { confidenceScorer } from '../../lambda/inference/core/confidence';
import type { ConfidenceFn, ModelInvoker, ReviewHandOff } from '../../lambda/inference/core/ports';
import { ROUTER_MODEL, scoreRequest } from '../../lambda/inference/core/routing/router';
import { type Deadline, type InferenceService, makeInferenceService } from '../../lambda/inference/core/service';
import { answerResult, readResult } from '../../lambda/inference/http/responses';
import type { InferenceRequest } from '../../lambda/shared/api-schema';
import { costNanoUsd } from '../../lambda/shared/catalog';
import { makeDynamoReviewQueue } from '../../lambda/shared/dynamo-review-queue';
import { LEDGER_KEYS } from '../../lambda/shared/ledger-schema';
import type { GuardrailRef, TenantRuntimeConfig } from '../../lambda/shared/tenant-runtime';
import { toRuntimeConfig } from '../../lib/config/runtime-config';
import { resolveTenant } from '../../lib/config/tenant-config';
import { TenantFileSchema } from '../../lib/config/tenant-schema';
import { BedrockStub } from './bedrock-stub';
import { DynaliteServer } from './dynalite-server';
import { DynamoFaultProxy } from './dynamo-fault-proxy';

const CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

/** The guardrail the harness's services apply (what GUARDRAIL_ENV carries in a deployed function). */
export const HARNESS_GUARDRAIL: GuardrailRef = {
  arn: 'arn:aws:bedrock:us-east-1:111111111111:guardrail/harnessguardrail',
  version: '1',
};

/**
 * A runtime config from a tenant file's fields (plan defaults applied exactly as at synth). The file has a
 * reviewer unless it names its own: a file that can send answers to review must say who is told.
 */
export function runtimeConfigOf(
  file: Record<string, unknown>,
  platform: { systemPreamble?: string } = {},
): TenantRuntimeConfig {
  const escalation = { reviewerEmails: ['ai-review@example.com'], ...(file.escalation as object | undefined) };
  const parsed = TenantFileSchema.parse({ id: 'faulty', plan: 'standard', ...file, escalation });
  const { tenant, problems } = resolveTenant(parsed);
  if (!tenant) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return toRuntimeConfig(tenant, platform);
}

export class InferenceHarness {
  readonly dynalite = new DynaliteServer();
  readonly bedrock = new BedrockStub();
  proxy!: DynamoFaultProxy;
  private tables = 0;
  private bedrockClient?: BedrockRuntimeClient;
  private dynamoClient?: DynamoDBClient;
  /** Added to the wall clock the service sees (to age reservations). */
  clockOffsetMs = 0;
  readonly reviews: Array<{ requestId: string; confidence: number; reason: string }> = [];

  async start(): Promise<void> {
    await Promise.all([this.dynalite.start(), this.bedrock.start()]);
    this.proxy = new DynamoFaultProxy(this.dynalite.endpoint);
    await this.proxy.start();
    this.bedrockClient = new BedrockRuntimeClient({
      endpoint: this.bedrock.endpoint,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      retryStrategy: new ConfiguredRetryStrategy(3, (attempt) => 5 * 2 ** attempt),
    });
    this.dynamoClient = this.newDynamoClient();
  }

  /** A DynamoDB client through the fault proxy, with the handler's attempt count (and its own retry quota). */
  private newDynamoClient(): DynamoDBClient {
    const client = new DynamoDBClient({
      endpoint: this.proxy.endpoint,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      retryStrategy: new ConfiguredRetryStrategy(5, (attempt) => 5 * 2 ** attempt),
    });
    this.extraClients.push(client);
    return client;
  }
  private readonly extraClients: DynamoDBClient[] = [];

  async stop(): Promise<void> {
    this.bedrockClient?.destroy();
    for (const c of this.extraClients) c.destroy();
    await Promise.all([this.dynalite.stop(), this.bedrock.stop(), this.proxy?.stop()]);
  }

  /**
   * A fresh ledger table and a service on it for a tenant with the given file fields. `ownDynamoClient`
   * gives the tenant a DynamoDB client of its own, as a fresh Lambda container has: the SDK's retry quota
   * starts full instead of carrying what earlier fault scenarios used up.
   */
  async tenant(
    file: Record<string, unknown> = {},
    opts: {
      ownDynamoClient?: boolean;
      confidence?: ConfidenceFn;
      /** Wraps the Bedrock adapter (e.g. to see the deadline the service gives each call). */
      wrapInvoker?: (invoker: ModelInvoker) => ModelInvoker;
    } = {},
  ) {
    const tableName = `ledger-${++this.tables}`;
    await this.dynalite.dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [
          { AttributeName: LEDGER_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: LEDGER_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: LEDGER_KEYS.partitionKey, AttributeType: 'S' },
          { AttributeName: LEDGER_KEYS.sortKey, AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const config = runtimeConfigOf(file);
    const client = opts.ownDynamoClient ? this.newDynamoClient() : this.dynamoClient!;
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    let seq = 0;
    const review: ReviewHandOff = {
      start: async (input) => {
        this.reviews.push(input);
      },
    };
    const core = makeInferenceService({
      invoker: (opts.wrapInvoker ?? ((i) => i))(
        makeBedrockInvoker(this.bedrockClient!, { guardrail: HARNESS_GUARDRAIL, preamble: config.preamble }),
      ),
      ledger: makeDynamoLedger(doc, tableName),
      clock: { now: () => Date.now() + this.clockOffsetMs },
      ids: { newRequestId: () => `req_${tableName.replace(/\W/g, '')}x${String(++seq).padStart(8, '0')}` },
      route: (text) => scoreRequest(ROUTER_MODEL, text),
      confidenceFor: (t) => opts.confidence ?? confidenceScorer({ honourStated: t.escalation.honourStatedConfidence }),
      review,
      reviewQueue: makeDynamoReviewQueue(doc, tableName),
    });
    const service = httpView(core, config);
    const scan = async () => {
      const res = await this.dynalite.dynamo.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
      return (res.Items ?? []).map((i) => unmarshall(i));
    };
    return {
      config,
      service,
      tableName,
      /** Request records. */
      records: async () => (await scan()).filter((i) => String(i.pk).startsWith('REQ#')),
      /** The month counter item (raw attributes). */
      counter: async () => (await scan()).find((i) => String(i.pk).startsWith('USAGE#')) ?? {},
    };
  }

  /** What the stand-in answered, priced with the catalog: what the tenant used. */
  usedNanoUsd(): number {
    return this.bedrock.answered.reduce((n, a) => n + costNanoUsd(a.modelId, a), 0);
  }
}

/**
 * The service of one tenant as the handler's HTTP mapping shows it: `{status, body, headers}` for an answer
 * (`http/responses.ts`), the domain error thrown for a refusal or an accepted request that failed.
 */
function httpView(core: InferenceService, tenant: TenantRuntimeConfig) {
  return {
    async infer(req: InferenceRequest, deadline: Deadline) {
      const outcome = await core.infer(tenant, req, deadline);
      if (outcome.kind === 'failed') throw outcome.error;
      return answerResult(outcome);
    },
    getRequest: async (requestId: string) => readResult(await core.getRequest(tenant, requestId)),
    getUsage: async () => readResult(await core.getUsage(tenant)),
    reconcile: (month: string) => core.reconcile(month),
    reconcileRecent: () => core.reconcileRecent(),
  };
}

/** Calls `fn` for 0..n-1, at most `width` at a time; returns results in order. */
export async function inBatches<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Settles a service call into `{status, body}` whether it answered or threw an `ApiError`. */
export async function outcomeOf(
  p: Promise<{ status: number; body: unknown; headers?: Record<string, string> }>,
): Promise<{ status: number; body: Record<string, unknown>; code?: string; requestId?: string; retryAfter?: number }> {
  try {
    const r = await p;
    const body = r.body as Record<string, unknown>;
    return { status: r.status, body, requestId: body.requestId as string };
  } catch (e) {
    const err = e as {
      status?: number;
      code?: string;
      requestId?: string;
      retryAfterSeconds?: number;
      message?: string;
    };
    if (typeof err.status !== 'number') throw e;
    return {
      status: err.status,
      body: { message: err.message },
      code: err.code,
      requestId: err.requestId,
      retryAfter: err.retryAfterSeconds,
    };
  }
}
