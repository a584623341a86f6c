/**
 * The inference API wired to real adapters and real local servers: the AWS SDK's Bedrock Runtime client
 * against the h2c Bedrock stand-in, the DynamoDB DocumentClient against dynalite (through the fault proxy),
 * the real router and confidence scorer. Used by the fault, budget, cascade and review-cap tests, which need to
 * set the tenant's thresholds, the deadline and the clock per test.
 *
 * One harness runs one deployment model (`model`), and every request goes through that model's handler
 * (lambda/inference/http/handler.ts: routes, body parsing, HTTP mapping, metrics) as a proxy event:
 *
 * - `silo`: a table of its own per tenant and the tenant bound as the silo function binds it;
 * - `pooled`: the pooled function's runtime (lambda/pool-inference/runtime.ts) on a pool cell
 *   (test/support/pool-cell.ts): tenants onboarded through the control plane into the registry, the authorizer's
 *   tenant in the event, sessions from the STS stand-in, admission, every tenant's items under `T#<tenant>#` of
 *   one shared table, and every ledger call checked against the synthesized tenant-access policy.
 *
 * What a test sees is the same in both: `service.infer` answers `{status, body, headers}` or throws the
 * `DomainError` of the error envelope; `records()` and `counter()` read the tenant's items as a silo table holds them.
 *
 * The SDK clients keep their retry behaviour (attempt counts as in the handler) with short backoff delays
 * so that 50-request fault runs stay fast; the retry path is the SDK's own.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { makeBedrockInvoker } from '../../lambda/inference/adapters/bedrock-invoker';
import { makeDynamoLedger } from '../../lambda/inference/adapters/dynamo-ledger';
import { confidenceScorer } from '../../lambda/inference/core/confidence';
import type { ConfidenceFn, ModelInvoker, ReviewHandOff } from '../../lambda/inference/core/ports';
import { ROUTER_MODEL, scoreRequest } from '../../lambda/inference/core/routing/router';
import { type Deadline, type InferenceService, makeInferenceService } from '../../lambda/inference/core/service';
import { makeInferenceApi } from '../../lambda/inference/http/handler';
import { answerResult } from '../../lambda/inference/http/responses';
import { makePoolRuntime, type PoolRuntime, type PoolRuntimeDeps } from '../../lambda/pool-inference/runtime';
import { makeDynamoTenantRegistry } from '../../lambda/pool-inference/tenant-directory';
import type { InferenceRequest } from '../../lambda/shared/api-schema';
import { costNanoUsd } from '../../lambda/shared/catalog';
import { makeDynamoReviewQueue } from '../../lambda/shared/dynamo-review-queue';
import { DomainError, type ErrorEnvelope } from '../../lambda/shared/errors';
import { type KeyScope, poolKeyScope, SILO_KEY_SCOPE } from '../../lambda/shared/key-scope';
import { makeTelemetry } from '../../lambda/shared/telemetry';
import { TenantCredentials } from '../../lambda/shared/tenant-credentials';
import { makeStsQueryClient } from '../../lambda/shared/tenant-credentials-sts';
import {
  type GuardrailRef,
  type TenantRuntimeConfig,
  TenantRuntimeConfigSchema,
} from '../../lambda/shared/tenant-runtime';
import { toRuntimeConfig } from '../../lib/config/runtime-config';
import { resolveTenant } from '../../lib/config/tenant-config';
import { TenantFileSchema } from '../../lib/config/tenant-schema';
import { BedrockStub } from './bedrock-stub';
import { proxyEvent } from './bundled-handler';
import { DynaliteServer } from './dynalite-server';
import { DynamoFaultProxy } from './dynamo-fault-proxy';
import { createLedgerTable } from './ledger-table';
import { ACCESS_ROLE_ARN, FUNCTION_CREDENTIALS, POOL_REGION, PoolCell, withTenant } from './pool-cell';

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
  // A silo tenant unless the file says otherwise (the basic plan's default isolation is pool).
  const parsed = TenantFileSchema.parse({ id: 'faulty', plan: 'standard', isolation: 'silo', ...file, escalation });
  const { tenant, problems } = resolveTenant(parsed);
  if (!tenant) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return toRuntimeConfig(tenant, platform);
}

/** The deployment models the contract tests run against. */
export type DeploymentModel = 'silo' | 'pooled';
export const DEPLOYMENT_MODELS: readonly DeploymentModel[] = ['silo', 'pooled'];
/** The models whose tenants can have human review: both (a pool cell's review workflow serves all its tenants). */
export const REVIEW_MODELS: readonly DeploymentModel[] = DEPLOYMENT_MODELS;
/** The review threshold a test may give a tenant of `model` (0 where there is no review). */
export const reviewThresholdFor = (model: DeploymentModel, wanted: number) =>
  REVIEW_MODELS.includes(model) ? wanted : 0;

/** What a test may set per tenant besides its file. */
export interface TenantOptions {
  /**
   * A DynamoDB client of the tenant's own, as a fresh Lambda container has: the SDK's retry quota starts full
   * instead of carrying what earlier fault scenarios used up. (Pooled tenants always have one: their session's.)
   */
  readonly ownDynamoClient?: boolean;
  readonly confidence?: ConfidenceFn;
  /** Wraps the Bedrock adapter (e.g. to see the deadline the service gives each call). */
  readonly wrapInvoker?: (invoker: ModelInvoker) => ModelInvoker;
}

/**
 * Limits a pooled tenant of the harness gets unless its file sets them: far above what a test sends, so the
 * contract tests see what a silo tenant (throttled by API Gateway, not here) sees. Admission has tests of its own.
 */
const HARNESS_POOLED_LIMITS = {
  throttle: { rateLimit: 1_000, burstLimit: 5_000 },
  quota: { limit: 10_000_000, period: 'MONTH' },
};

const silent = makeTelemetry({ tenantId: 'harness', service: 'harness', sink: () => {} });

type Reconcile = InferenceService['reconcile'];
type ReconcileRecent = InferenceService['reconcileRecent'];

export class InferenceHarness {
  readonly dynalite = new DynaliteServer();
  readonly bedrock = new BedrockStub();
  proxy!: DynamoFaultProxy;
  /** The pool cell (pooled model only). */
  cell?: PoolCell;
  /** The pooled function's runtime (pooled model only). */
  pool?: PoolRuntime;
  /** What the pooled runtime was built from (tests build variants of it). */
  poolDeps?: PoolRuntimeDeps;
  /** The pooled function's recent log lines (JSON), its own and its tenants'. */
  readonly poolLog: string[] = [];
  private tables = 0;
  private bedrockClient?: BedrockRuntimeClient;
  private dynamoClient?: DynamoDBClient;
  private readonly extraClients: DynamoDBClient[] = [];
  private readonly tenantOptions = new Map<string, TenantOptions>();
  /** Added to the wall clock the service sees (to age reservations). */
  clockOffsetMs = 0;
  /** When set, the instant the service's clock stands still at (a test that must not see a window turn). */
  clockFrozenAt?: number;
  /** The service's clock. */
  readonly now = () => this.clockFrozenAt ?? Date.now() + this.clockOffsetMs;
  readonly reviews: Array<{ requestId: string; confidence: number; reason: string }> = [];
  private readonly review: ReviewHandOff = {
    start: async (input) => {
      this.reviews.push(input);
    },
  };

  constructor(readonly model: DeploymentModel = 'silo') {}

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
    this.dynamoClient = this.newDynamoClient(CREDENTIALS);
    if (this.model === 'pooled') await this.startPool();
  }

  /** A DynamoDB client through the fault proxy, with the handler's attempt count (and its own retry quota). */
  private newDynamoClient(credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider): DynamoDBClient {
    const client = new DynamoDBClient({
      endpoint: this.proxy.endpoint,
      region: POOL_REGION,
      credentials,
      retryStrategy: new ConfiguredRetryStrategy(5, (attempt) => 5 * 2 ** attempt),
    });
    this.extraClients.push(client);
    return client;
  }

  /** The pooled function's runtime on a pool cell; the registry is read directly (no faults injected there). */
  private async startPool(): Promise<void> {
    const cell = new PoolCell(this.dynalite.dynamo);
    await cell.start();
    this.cell = cell;
    cell.installGate(this.proxy);
    const registryClient = new DynamoDBClient({
      endpoint: this.dynalite.endpoint,
      region: POOL_REGION,
      credentials: FUNCTION_CREDENTIALS,
      maxAttempts: 3,
    });
    this.extraClients.push(registryClient);
    let seq = 0;
    const sink = (line: string) => {
      this.poolLog.push(line);
      if (this.poolLog.length > 2_000) this.poolLog.splice(0, 1_000);
    };
    this.poolDeps = {
      cellId: cell.cellId,
      ledgerTable: cell.ledgerTable,
      registry: makeDynamoTenantRegistry(docOf(registryClient), cell.registryTable),
      credentials: new TenantCredentials({
        sts: makeStsQueryClient({
          region: POOL_REGION,
          endpoint: cell.sts.endpoint,
          credentials: async () => FUNCTION_CREDENTIALS,
        }),
        roleArn: ACCESS_ROLE_ARN,
      }),
      ledgerClient: (credentials) => docOf(this.newDynamoClient(credentials)),
      invokerFor: (t) =>
        (this.tenantOptions.get(t.tenantId)?.wrapInvoker ?? ((i) => i))(
          makeBedrockInvoker(this.bedrockClient!, { guardrail: HARNESS_GUARDRAIL }),
        ),
      review: this.review,
      clock: { now: this.now },
      ids: { newRequestId: () => `req_poolx${String(++seq).padStart(10, '0')}` },
      route: (text) => scoreRequest(ROUTER_MODEL, text),
      confidenceFor: (t) =>
        this.tenantOptions.get(t.tenantId)?.confidence ??
        confidenceScorer({ honourStated: t.escalation.honourStatedConfidence }),
      telemetryFor: (tenantId) => makeTelemetry({ tenantId, cellId: cell.cellId, service: 'pool-inference', sink }),
      telemetry: makeTelemetry({ tenantId: cell.cellId, cellId: cell.cellId, service: 'pool-inference', sink }),
    };
    this.pool = makePoolRuntime(this.poolDeps);
  }

  async stop(): Promise<void> {
    this.bedrockClient?.destroy();
    for (const c of this.extraClients) c.destroy();
    await Promise.all([this.dynalite.stop(), this.bedrock.stop(), this.proxy?.stop(), this.cell?.stop()]);
    // Every ledger call of the pooled function was one the tenant-access policy allows.
    if (this.cell?.denied.length) {
      throw new Error(`IAM (the tenant-access policy) refused ${JSON.stringify(this.cell.denied.slice(0, 5))}`);
    }
  }

  /**
   * A fresh tenant with the given file fields and its API in this harness's model: a silo tenant gets a table of
   * its own, a pooled tenant a new id in the cell (onboarded through the control plane).
   */
  async tenant(file: Record<string, unknown> = {}, opts: TenantOptions = {}) {
    return this.model === 'pooled' ? this.pooledTenant(file, opts) : this.siloTenant(file, opts);
  }

  private async siloTenant(file: Record<string, unknown>, opts: TenantOptions) {
    const tableName = `ledger-${++this.tables}`;
    await createLedgerTable(this.dynalite.dynamo, tableName);
    const config = runtimeConfigOf(file);
    const client = opts.ownDynamoClient ? this.newDynamoClient(CREDENTIALS) : this.dynamoClient!;
    const doc = docOf(client);
    let seq = 0;
    const core = makeInferenceService({
      invoker: (opts.wrapInvoker ?? ((i) => i))(
        makeBedrockInvoker(this.bedrockClient!, { guardrail: HARNESS_GUARDRAIL, preamble: config.preamble }),
      ),
      ledger: makeDynamoLedger(doc, tableName),
      clock: { now: this.now },
      ids: { newRequestId: () => `req_${tableName.replace(/\W/g, '')}x${String(++seq).padStart(8, '0')}` },
      route: (text) => scoreRequest(ROUTER_MODEL, text),
      confidenceFor: (t) => opts.confidence ?? confidenceScorer({ honourStated: t.escalation.honourStatedConfidence }),
      review: this.review,
      reviewQueue: makeDynamoReviewQueue(doc, tableName),
    });
    // The silo function's binding: its one tenant (admitted by API Gateway's usage plan).
    const api = makeInferenceApi({
      bind: async () => ({ tenant: config, service: core, telemetry: silent }),
      telemetry: silent,
    });
    const items = async () => {
      const res = await this.dynalite.dynamo.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
      return (res.Items ?? []).map((i) => unmarshall(i));
    };
    return this.view({
      config,
      tableName,
      scope: SILO_KEY_SCOPE,
      serve: (event, deadline) => api.serve(event, invocation(event, deadline)),
      items,
      reconcile: (month) => core.reconcile(month),
      reconcileRecent: () => core.reconcileRecent(),
      core: async () => core,
    });
  }

  private async pooledTenant(file: Record<string, unknown>, opts: TenantOptions) {
    const cell = this.cell!;
    const pool = this.pool!;
    const id = (file.id as string | undefined) ?? `tenant-${++this.tables}`;
    const escalation = { reviewerEmails: ['ai-review@example.com'], ...(file.escalation as object | undefined) };
    this.tenantOptions.set(id, opts);
    await cell.onboard({ plan: 'standard', ...HARNESS_POOLED_LIMITS, ...file, id, escalation });
    const shown = await cell.controlPlane.call({ method: 'GET', path: `/v1/tenants/${id}` });
    const config = TenantRuntimeConfigSchema.parse(shown.body.tenant.runtime);
    return this.view({
      config,
      tableName: cell.ledgerTable,
      scope: poolKeyScope(id),
      serve: (event, deadline) => pool.serve(withTenant(event, id), invocation(event, deadline)),
      items: () => cell.itemsOf(id),
      reconcile: async (month) => (await pool.serviceOf(id)).reconcile(month),
      // Through the cell's scheduled reconciliation (every active tenant of the cell); this tenant's part.
      reconcileRecent: async () => (await pool.reconcile()).reconciled[id] ?? {},
      core: () => pool.serviceOf(id),
    });
  }

  /** A tenant as the tests use it, whatever the model. */
  private view(t: {
    config: TenantRuntimeConfig;
    tableName: string;
    scope: KeyScope;
    serve: (event: APIGatewayProxyEvent, deadline: Deadline) => Promise<APIGatewayProxyResult>;
    /** The tenant's ledger items, keys as a silo table holds them. */
    items: () => Promise<Record<string, unknown>[]>;
    reconcile: Reconcile;
    reconcileRecent: ReconcileRecent;
    /** The core service the handler hands this tenant's requests to. */
    core: () => Promise<InferenceService>;
  }) {
    const call = async (event: APIGatewayProxyEvent, deadline: Deadline = { deadlineMs: Date.now() + 20_000 }) =>
      answerOrThrow(await t.serve(event, deadline));
    const service = {
      infer: (req: InferenceRequest, deadline: Deadline) =>
        call(proxyEvent({ method: 'POST', resource: '/v1/inference', body: req }), deadline),
      getRequest: (requestId: string) =>
        call(
          proxyEvent({
            method: 'GET',
            resource: '/v1/requests/{requestId}',
            path: `/v1/requests/${requestId}`,
            pathParameters: { requestId },
          }),
        ),
      getUsage: () => call(proxyEvent({ method: 'GET', resource: '/v1/usage' })),
      /**
       * The core service called directly, past the handler's body validation (for what only a bug could still
       * send it); the outcome mapped as the handler maps it.
       */
      inferPastValidation: async (req: InferenceRequest, deadline: Deadline) => {
        const outcome = await (await t.core()).infer(t.config, req, deadline);
        if (outcome.kind === 'failed') throw outcome.error;
        return answerResult(outcome);
      },
      reconcile: t.reconcile,
      reconcileRecent: t.reconcileRecent,
    };
    return {
      config: t.config,
      service,
      /** The ledger table the tenant's items are in (its own, or the cell's). */
      tableName: t.tableName,
      /** The tenant's key scope on that table. */
      scope: t.scope,
      /** Request records. */
      records: async () => (await t.items()).filter((i) => String(i.pk).startsWith('REQ#')),
      /** The month counter item (raw attributes). */
      counter: async () => (await t.items()).find((i) => String(i.pk).startsWith('USAGE#')) ?? {},
    };
  }

  /** What the stand-in answered, priced with the catalog: what the tenant used. */
  usedNanoUsd(): number {
    return this.bedrock.answered.reduce((n, a) => n + costNanoUsd(a.modelId, a), 0);
  }
}

const docOf = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

let gatewaySeq = 0;
/** The invocation of a test's request: started now, with the test's deadlines (not a Lambda context's). */
function invocation(event: APIGatewayProxyEvent, deadline: Deadline) {
  return {
    started: Date.now(),
    deadline,
    gatewayRequestId: event.requestContext?.requestId ?? `gw-harness-${++gatewaySeq}`,
  };
}

/**
 * A handler's answer as the core service gave it: a 2xx as `{status, body, headers}`, an error envelope thrown as
 * its `DomainError` (with the ledger's request id when the envelope carries one, never the gateway's).
 */
function answerOrThrow(res: APIGatewayProxyResult): {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
} {
  const body = JSON.parse(res.body) as unknown;
  if (res.statusCode < 400) {
    return { status: res.statusCode, body, headers: res.headers as Record<string, string> | undefined };
  }
  const { error } = body as ErrorEnvelope;
  const retryAfter = res.headers?.['retry-after'];
  throw new DomainError(
    error.code,
    error.message,
    retryAfter === undefined ? undefined : Number(retryAfter),
    /^req_/.test(error.requestId) ? error.requestId : undefined,
  );
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
