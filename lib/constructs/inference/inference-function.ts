import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
// The code this function runs (type-only import: nothing of the handler runs at synth).
import type * as inferenceCode from '../../../lambda/inference/index';
import { modelResourceArns } from '../../../lambda/shared/catalog';
import {
  GUARDRAIL_ENV,
  LEDGER_TABLE_ENV,
  RECONCILE_EVENT,
  RECONCILE_EVERY_MINUTES,
  TENANT_CONFIG_ENV,
  type TenantRuntimeConfig,
} from '../../../lambda/shared/tenant-runtime';
import { acknowledge } from '../../compliance/acknowledge';
import { handlerOf } from '../bundling';
import { TenantFunction } from '../functions/tenant-function';
import type { IGuardrail } from '../guardrail/switchboard-guardrail';

/** Lambda's limit on a function's environment variables, names and values together (not adjustable). */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;
/** What a deploy-time value (an ARN, a table name) is counted at in the environment size check. */
const TOKEN_WORST_CASE_BYTES = 256;

/**
 * UTF-8 bytes of an environment, names and values, each unresolved value at {@link TOKEN_WORST_CASE_BYTES}:
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export function environmentBytes(env: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(env)) {
    n += Buffer.byteLength(k, 'utf8');
    const tokens = v.match(/\$\{Token\[[^\]]+\]\}/g) ?? [];
    n +=
      Buffer.byteLength(v, 'utf8') + tokens.reduce((sum, t) => sum + TOKEN_WORST_CASE_BYTES - Buffer.byteLength(t), 0);
  }
  return n;
}

/** Props of {@link InferenceFunction}. */
export interface InferenceFunctionProps {
  /** What the handler knows about its tenant (becomes the `TENANT_CONFIG` variable). */
  readonly runtimeConfig: TenantRuntimeConfig;
  /**
   * The guardrail every model call applies: its ARN and version reach the handler in {@link GUARDRAIL_ENV}, and the
   * function's IAM policy refuses any model call without it.
   */
  readonly guardrail: IGuardrail;
  /** The tenant's ledger table. */
  readonly table: dynamodb.ITable;
  /** The tenant key (log group, dead-letter topic). */
  readonly key: kms.IKey;
  /** Shared customer-managed policies to attach (X-Ray). */
  readonly sharedPolicies: readonly iam.IManagedPolicy[];
  /**
   * Reserved concurrency: a guaranteed (and capped) share of the account's concurrency.
   * @default - unreserved
   */
  readonly reservedConcurrency?: number;
  /**
   * Memory in MB.
   * @default 1024
   */
  readonly memoryMb?: number;
  /**
   * Timeout (at most `maxTimeout`: API Gateway gives up on the integration after it).
   * @default Duration.seconds(29)
   */
  readonly timeout?: Duration;
  /**
   * The API Gateway integration timeout of the account: 29 s unless raised for Regional REST APIs.
   * @default Duration.seconds(29)
   */
  readonly maxTimeout?: Duration;
  /**
   * Log retention.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /** Extra environment (e.g. the review state machine ARN). */
  readonly environment?: Record<string, string>;
  /**
   * An existing schedule to run the ledger reconciliation on (a target is added to it), so a stack keeps
   * one housekeeping schedule. Its period should be at most {@link RECONCILE_EVERY_MINUTES} minutes.
   * @default a schedule of its own, every RECONCILE_EVERY_MINUTES minutes
   */
  readonly schedule?: events.Rule;
}

/**
 * The tenant's inference function (tenant API handler), with its own role, KMS-encrypted log group and
 * dead-letter topic. The code is the shared esbuild bundle; only the environment differs per tenant.
 * It may invoke exactly the Bedrock models and inference profiles of the tenant's allowed tiers and their
 * fallbacks, and only with the tenant's guardrail.
 */
export class InferenceFunction extends TenantFunction {
  constructor(scope: Construct, id: string, props: InferenceFunctionProps) {
    const timeout = props.timeout ?? Duration.seconds(29);
    const problems: string[] = [];
    const maxTimeout = props.maxTimeout ?? Duration.seconds(29);
    if (!timeout.isUnresolved() && timeout.toSeconds() > maxTimeout.toSeconds()) {
      problems.push(
        `timeout: ${timeout.toSeconds()} s is above ${maxTimeout.toSeconds()} s, the API Gateway integration timeout`,
      );
    }
    if (props.reservedConcurrency !== undefined && props.reservedConcurrency < 1) {
      problems.push(`reservedConcurrency: ${props.reservedConcurrency} must be at least 1`);
    }
    const environment: Record<string, string> = {
      [TENANT_CONFIG_ENV]: JSON.stringify(props.runtimeConfig),
      [LEDGER_TABLE_ENV]: props.table.tableName,
      [GUARDRAIL_ENV.arn]: props.guardrail.guardrailArn,
      [GUARDRAIL_ENV.version]: props.guardrail.guardrailVersion,
      ...props.environment,
    };
    const envBytes = environmentBytes(environment);
    if (envBytes > LAMBDA_ENVIRONMENT_MAX_BYTES) {
      problems.push(
        `environment: ${envBytes} bytes (deploy-time values counted at ${TOKEN_WORST_CASE_BYTES}); Lambda allows ${LAMBDA_ENVIRONMENT_MAX_BYTES}: shorten the system preambles (tenant systemPreamble, platform systemPreamble)`,
      );
    }
    if (problems.length) {
      throw new Error(`InferenceFunction ${[scope.node.path, id].filter(Boolean).join('/')}: ${problems.join('; ')}`);
    }
    super(scope, id, {
      tenantId: props.runtimeConfig.tenantId,
      handler: handlerOf<typeof inferenceCode>('inference'),
      purpose: 'tenant API (inference, requests, usage)',
      key: props.key,
      sharedPolicies: props.sharedPolicies,
      environment,
      calls: 'only AWS public service endpoints (Bedrock Runtime, DynamoDB, KMS, Step Functions) with SigV4',
      reservedConcurrency: props.reservedConcurrency,
      memoryMb: props.memoryMb ?? 1024,
      timeout,
      logRetention: props.logRetention,
    });
    const modelArns = modelArnsOf(this, [
      ...Object.values(props.runtimeConfig.tierModels),
      ...Object.values(props.runtimeConfig.tierFallbacks).flat(),
    ] as string[]);
    props.guardrail.grantInvokeModelsWith(this, modelArns);

    scheduleReconciliation(this, props.runtimeConfig.tenantId, props.schedule);
  }
}

/** The Bedrock resource ARNs (models, inference profiles) of `modelIds` in `scope`'s stack, sorted, once each. */
export function modelArnsOf(scope: Construct, modelIds: readonly string[]): string[] {
  const stack = Stack.of(scope);
  const env = { partition: stack.partition, region: stack.region, account: stack.account };
  return [...new Set(modelIds.flatMap((m) => modelResourceArns(m, env)))].sort();
}

/**
 * Runs the ledger reconciliation of `fn` ({@link RECONCILE_EVENT}) on `schedule`, or on a schedule of its own every
 * {@link RECONCILE_EVERY_MINUTES} minutes: it closes runs that died with budget reservations open (this month and
 * the last), so the committed spend never stays inflated and no record stays in_progress, whether or not anyone
 * reads the usage. `owner` names whose ledger (a tenant, a pool cell) in the rule's description.
 */
export function scheduleReconciliation(fn: TenantFunction, owner: string, schedule?: events.Rule): void {
  const target = new targets.LambdaFunction(fn.fn, {
    event: events.RuleTargetInput.fromObject(RECONCILE_EVENT),
    retryAttempts: 2,
  });
  if (schedule) {
    schedule.addTarget(target);
    return;
  }
  const reconcile = new events.Rule(fn, 'Reconcile', {
    description: `Switchboard ${owner}: reconcile the ledger's open budget reservations`,
    schedule: events.Schedule.rate(Duration.minutes(RECONCILE_EVERY_MINUTES)),
    targets: [target],
  });
  acknowledge(
    reconcile,
    'Serverless-EventBusDLQ',
    `The schedule carries no data: a reconciliation that fails after its retries is repeated in full by the next run ${RECONCILE_EVERY_MINUTES} minutes later (it is idempotent), so a dead-letter queue would hold nothing worth replaying.`,
  );
}
