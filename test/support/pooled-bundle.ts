/**
 * The pooled inference function as it would run in Lambda: the bundle esbuild packages for it
 * (`lambda/pool-inference/index.ts`, the same build the CDK asset uses), required in isolation with the
 * environment a pool cell gives it, on the local parts of a pool cell (test/support/pool-cell.ts): tenants onboarded
 * through the control plane, the STS stand-in issuing tenant sessions, and every ledger call through the fault proxy
 * and its IAM gate (the synthesized tenant-access policy). Requests carry the tenant in the authorizer context, as
 * API Gateway passes it on from the pool authorizer.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { PlanGuardrails } from '../../lambda/pool-inference/guardrails';
import { POOL_ENV } from '../../lambda/shared/pool-runtime';
import { REGISTRY_TABLE_ENV } from '../../lambda/shared/registry-schema';
import { REVIEW_ENV } from '../../lambda/shared/review-schema';
import { LEDGER_TABLE_ENV } from '../../lambda/shared/tenant-runtime';
import { bundleHandler } from '../../lib/constructs/bundling';
import type { ProxyHandler } from './bundled-handler';
import type { DynaliteServer } from './dynalite-server';
import { DynamoFaultProxy } from './dynamo-fault-proxy';
import { ACCESS_ROLE_ARN, FUNCTION_CREDENTIALS, POOL_REGION, PoolCell, withTenant } from './pool-cell';

/** The review state machine ARN the bundle is given (its hand-offs go to `sfnEndpoint`, if any). */
export const POOL_REVIEW_STATE_MACHINE_ARN =
  'arn:aws:states:us-east-1:111111111111:stateMachine:switchboard-pool-1-review';

export class BundledPoolCell {
  readonly proxy: DynamoFaultProxy;
  readonly cell: PoolCell;
  private handler?: ProxyHandler;

  constructor(
    dynalite: DynaliteServer,
    private readonly opts: { bedrockEndpoint: string; guardrails: PlanGuardrails; sfnEndpoint?: string; name?: string },
  ) {
    this.proxy = new DynamoFaultProxy(dynalite.endpoint);
    this.cell = new PoolCell(dynalite.dynamo, undefined, opts.name ?? 'bundled-cell');
  }

  /** Starts the cell and loads the bundle with the cell's environment. */
  async start(): Promise<void> {
    await Promise.all([this.proxy.start(), this.cell.start()]);
    this.cell.installGate(this.proxy);
    const env: Record<string, string> = {
      [POOL_ENV.cellId]: this.cell.cellId,
      [POOL_ENV.tenantAccessRoleArn]: ACCESS_ROLE_ARN,
      [POOL_ENV.guardrails]: JSON.stringify(this.opts.guardrails),
      [LEDGER_TABLE_ENV]: this.cell.ledgerTable,
      [REGISTRY_TABLE_ENV]: this.cell.registryTable,
      [REVIEW_ENV.stateMachineArn]: POOL_REVIEW_STATE_MACHINE_ARN,
      AWS_REGION: POOL_REGION,
      // The function's own credentials, as Lambda hands them over.
      AWS_ACCESS_KEY_ID: FUNCTION_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FUNCTION_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: this.proxy.endpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: this.opts.bedrockEndpoint,
      AWS_ENDPOINT_URL_STS: this.cell.sts.endpoint,
      ...(this.opts.sfnEndpoint ? { AWS_ENDPOINT_URL_SFN: this.opts.sfnEndpoint } : {}),
    };
    const file = bundleHandler('pool-inference').file;
    // Left set: the SDK reads its endpoints and credentials from the environment when it first needs them.
    Object.assign(process.env, env);
    jest.isolateModules(() => {
      this.handler = (require(file) as { handler: ProxyHandler }).handler;
    });
  }

  /**
   * Loads the cell's two review bundles (lambda/pool-review-steps, lambda/pool-review-api) on the same parts, with
   * the environment the cell gives them: task tokens encrypted by the KMS stand-in at `kmsEndpoint` under
   * `keyArn` (the cell ledger's key), executions started on `sfnEndpoint` (set when the cell was built).
   */
  loadReview(opts: { kmsEndpoint: string; keyArn: string }): {
    steps: (event: unknown, context?: Partial<Context>) => Promise<unknown>;
    api: ProxyHandler;
  } {
    Object.assign(process.env, { [REVIEW_ENV.keyId]: opts.keyArn, AWS_ENDPOINT_URL_KMS: opts.kmsEndpoint });
    let steps: ((event: unknown, context?: Partial<Context>) => Promise<unknown>) | undefined;
    let api: ProxyHandler | undefined;
    jest.isolateModules(() => {
      steps = (require(bundleHandler('pool-review-steps').file) as { handler: typeof steps }).handler;
    });
    jest.isolateModules(() => {
      api = (require(bundleHandler('pool-review-api').file) as { handler: ProxyHandler }).handler;
    });
    return { steps: steps!, api: api! };
  }

  async stop(): Promise<void> {
    await Promise.all([this.proxy.stop(), this.cell.stop()]);
  }

  /** Calls the bundled handler with `event`, as the pool authorizer's `tenantId` (none: `undefined`). */
  handle(tenantId: string | undefined, event: APIGatewayProxyEvent, context?: Partial<Context>) {
    return this.handler!(withTenant(event, tenantId), context);
  }

  /** Calls the bundled handler with any event (the scheduled reconciliation). */
  invoke(event: unknown, context?: Partial<Context>) {
    return this.handler!(event as APIGatewayProxyEvent, context) as Promise<unknown>;
  }
}
