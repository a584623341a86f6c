/**
 * Human review in a pool cell: the review steps (the tasks of the cell's one review state machine, and the cell's
 * scheduled sweep) and the review API (`/v1/tenants/{tenantId}/reviews...`) for every pooled tenant of the cell, on
 * the review core the silo tenants' functions run (lambda/review/core).
 *
 * Which tenant a step or a call is for:
 * - a step: the execution input's `tenantId`, which only the cell's own functions write (the pooled inference
 *   function from the authorizer's tenant, the sweep restarting a hand-off from the tenant's own items); the state
 *   machine can be started by those two roles only;
 * - a review API call: the path's `{tenantId}`, which IAM has already matched with the caller's session tag (the
 *   cell's reviewer role may invoke `/v1/tenants/${aws:PrincipalTag/switchboard:tenant}/reviews*` only).
 * Either way the tenant's items are reached only through a session of the cell's tenant-access role tagged with
 * that tenant, on its key scope `T#<tenant>#`: a wrong tenant id reaches nothing of another tenant's (IAM refuses).
 *
 * What a tenant's reviews follow (timeout policy, caps, how long a review waits) is its registry item's `review`
 * (PooledReviewSettings, written by the control plane from its document); the cell's state machine reads the wait
 * times from the `RecordPending` result ({@link POOLED_AWAIT_SECONDS_PATH}).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Context } from 'aws-lambda';
import { reconcileWindow } from '../pool-inference/reconcile';
import { type PooledTenant, TenantDirectory, type TenantRegistry } from '../pool-inference/tenant-directory';
import { makeReviewStore } from '../review/adapters/dynamo-review-store';
import type { ReviewStore, TaskCallbacks, TokenCipher } from '../review/core/ports';
import { StepError, stepNameOf } from '../review/core/step-event';
import { makeReviewSteps } from '../review/core/steps';
import type { SweepResult } from '../review/core/sweep';
import type { ConsoleSignIn } from '../review/http/console-assets';
import { makePooledReviewHandler } from '../review/http/handler';
import { makeReviewApi, type ReviewApi } from '../review/http/review-api';
import { makeDynamoReviewQueue } from '../shared/dynamo-review-queue';
import { ApiError } from '../shared/errors';
import { poolKeyScope } from '../shared/key-scope';
import type { PooledReviewSettings } from '../shared/review-schema';
import type { ReviewWorkflowStarter } from '../shared/sfn-review-handoff';
import type { Telemetry } from '../shared/telemetry';
import { MAX_CACHED_TENANTS, type TenantCredentials } from '../shared/tenant-credentials';
import { TENANT_ID_PATTERN } from '../shared/tenant-vocabulary';
import { TtlCache } from '../shared/ttl-cache';

/** What both review functions of a cell are built from. */
export interface PoolReviewDeps {
  /** The cell the functions serve (POOL_ENV.cellId). */
  readonly cellId: string;
  /** The tenant registry, read with the function's own credentials. */
  readonly registry: TenantRegistry;
  /** The cell's pooled ledger table. */
  readonly ledgerTable: string;
  /** Sessions of the cell's tenant-access role tagged with a tenant (cached per tenant, renewed before expiry). */
  readonly credentials: Pick<TenantCredentials, 'forTenant'>;
  /** A ledger DocumentClient signed with a tenant's session: the only way the functions reach the ledger. */
  readonly ledgerClient: (credentials: AwsCredentialIdentityProvider) => DynamoDBDocumentClient;
  /** The task-token cipher of a tenant's reviews (the tenant is part of the encryption context). */
  readonly cipherFor: (tenantId: string) => TokenCipher;
  /** The telemetry of one tenant's reviews (its id on every line and metric). */
  readonly telemetryFor: (tenantId: string) => Telemetry;
  /** The function's own lines (the sweep, refusals). */
  readonly telemetry: Telemetry;
  readonly now: () => number;
}

/** A tenant's review ports: the store and the queue on its session and key scope. */
interface TenantReviewPorts {
  readonly store: ReviewStore;
  readonly queue: ReturnType<typeof makeDynamoReviewQueue>;
}

/** The tenants' review ports and registry entries, per container. */
class TenantReviews {
  private readonly ports: TtlCache<string, TenantReviewPorts>;
  readonly directory: TenantDirectory;

  constructor(private readonly deps: PoolReviewDeps) {
    this.ports = new TtlCache({ now: deps.now, ttlMs: Number.POSITIVE_INFINITY, maxEntries: MAX_CACHED_TENANTS });
    // Suspended tenants too: their reviews already waiting run to their end and may be decided.
    this.directory = new TenantDirectory(deps.registry, deps.cellId, deps.now, undefined, true);
  }

  /** The tenant and its review settings, or `undefined` when this cell does not serve it. */
  async find(tenantId: string): Promise<{ tenant: PooledTenant; review: PooledReviewSettings } | undefined> {
    if (!TENANT_ID_PATTERN.test(tenantId)) return undefined;
    const found = await this.directory.lookup(tenantId);
    if (!found.served || !found.tenant.review) return undefined;
    return { tenant: found.tenant, review: found.tenant.review };
  }

  portsOf(tenantId: string): TenantReviewPorts {
    const hit = this.ports.get(tenantId)?.value;
    if (hit) return hit;
    const doc = this.deps.ledgerClient(this.deps.credentials.forTenant(tenantId));
    const scope = poolKeyScope(tenantId);
    const built = {
      store: makeReviewStore(doc, this.deps.ledgerTable, scope),
      queue: makeDynamoReviewQueue(doc, this.deps.ledgerTable, scope),
    };
    this.ports.set(tenantId, built);
    return built;
  }
}

/** Tenants one scheduled sweep covers at most (a window that moves on with every run, as the reconciliation's). */
export const SWEEP_TENANTS_PER_RUN = 100;
/** A sweep starts no further tenant with less than this left of its invocation. */
const SWEEP_STOP_BEFORE_END_MS = 8_000;

/** What one cell sweep did. */
export interface CellSweep {
  readonly swept: Record<string, SweepResult>;
  readonly failed: Record<string, string>;
  /** Active tenants of the cell. */
  readonly tenants: number;
}

/** The review steps of a cell (the steps function's handler, before the Lambda entry). */
export function makePoolReviewSteps(deps: PoolReviewDeps & { readonly handOff: ReviewWorkflowStarter }) {
  const tenants = new TenantReviews(deps);

  function stepsOf(tenantId: string, review: PooledReviewSettings) {
    const { store, queue } = tenants.portsOf(tenantId);
    return makeReviewSteps({
      config: review.config,
      store,
      queue,
      cipher: deps.cipherFor(tenantId),
      telemetry: deps.telemetryFor(tenantId),
      now: deps.now,
      // A restarted hand-off names the tenant again (the cell's state machine is shared).
      handOff: deps.handOff,
    });
  }

  async function sweepCell(event: Record<string, unknown>, context?: Partial<Context>): Promise<CellSweep> {
    const stopAt =
      deps.now() + Math.max(0, (context?.getRemainingTimeInMillis?.() ?? 60_000) - SWEEP_STOP_BEFORE_END_MS);
    const all = await tenants.directory.activeTenants();
    const swept: Record<string, SweepResult> = {};
    const failed: Record<string, string> = {};
    for (const tenantId of reconcileWindow(all, deps.now(), SWEEP_TENANTS_PER_RUN)) {
      if (deps.now() >= stopAt) break;
      try {
        const found = await tenants.find(tenantId);
        if (!found) continue;
        swept[tenantId] = (await stepsOf(tenantId, found.review).run({ ...event, step: 'sweep' })) as SweepResult;
      } catch (e) {
        failed[tenantId] = (e as Error)?.name ?? 'Error';
      }
    }
    if (Object.keys(failed).length) deps.telemetry.log('WARN', 'cell review sweep: tenants failed', { failed });
    // The schedule retries a run in which no tenant could be swept at all.
    if (Object.keys(swept).length === 0 && Object.keys(failed).length > 0) {
      throw new StepError('SweepFailed', `The review sweep failed for every tenant it tried (${Object.keys(failed)})`);
    }
    return { swept, failed, tenants: all.length };
  }

  return {
    /** Runs the step an event names for the tenant it names (or the cell's sweep). */
    async run(event: unknown, context?: Partial<Context>): Promise<unknown> {
      if (typeof event !== 'object' || event === null) throw new StepError('InvalidStepInput', 'A step needs an event');
      const e = event as Record<string, unknown>;
      if (stepNameOf(e) === 'sweep') return sweepCell(e, context);
      const tenantId = e.tenantId;
      if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) {
        throw new StepError('InvalidStepInput', `Step ${String(stepNameOf(e))} needs the tenant id of its review`);
      }
      const found = await tenants.find(tenantId);
      if (!found) throw new StepError('TenantNotServed', `Tenant ${tenantId} has no reviews in this cell`);
      const result = await stepsOf(tenantId, found.review).run(e);
      // The state machine reads how long this review waits from here (POOLED_AWAIT_SECONDS_PATH).
      return stepNameOf(e) === 'recordPending'
        ? { ...(result as object), awaitSeconds: found.review.awaitSeconds }
        : result;
    },
  };
}

/** The review API of a cell (the API function's handler, before the Lambda entry). */
export function makePoolReviewApi(
  deps: PoolReviewDeps & { readonly tasks: TaskCallbacks; readonly consoleSignIn?: ConsoleSignIn },
) {
  const tenants = new TenantReviews(deps);
  const apis = new TtlCache<string, ReviewApi>({ now: deps.now, ttlMs: 60_000, maxEntries: MAX_CACHED_TENANTS });

  async function apiOf(tenantId: string): Promise<ReviewApi> {
    const found = await tenants.find(tenantId);
    // IAM lets a reviewer name only its own tenant; a tenant this cell does not serve has no reviews here.
    if (!found) throw new ApiError('not_found', `No reviews of tenant ${tenantId.slice(0, 64)} in this pool cell`);
    const hit = apis.get(tenantId)?.value;
    if (hit) return hit;
    const api = makeReviewApi({
      store: tenants.portsOf(tenantId).store,
      cipher: deps.cipherFor(tenantId),
      tasks: deps.tasks,
      telemetry: deps.telemetryFor(tenantId),
      now: deps.now,
    });
    apis.set(tenantId, api);
    return api;
  }

  return makePooledReviewHandler(apiOf, deps.telemetry, {
    ...(deps.consoleSignIn ? { signIn: deps.consoleSignIn } : {}),
    // The console lists the cell's active tenants; a reviewer sees those of its groups.
    tenants: async () => (await tenants.directory.activeTenants()).map((id) => ({ id, isolation: 'pool' as const })),
  });
}
