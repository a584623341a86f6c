import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
// The code this function runs (type-only import: nothing of the handler runs at synth).
import type * as poolInferenceCode from '../../../lambda/pool-inference/index';
import { MODELS, modelsNotCallableFrom } from '../../../lambda/shared/catalog';
import { POOL_ENV, REGISTRY_TABLE_NAME } from '../../../lambda/shared/pool-runtime';
import { REGISTRY_PK_PREFIXES, REGISTRY_TABLE, REGISTRY_TABLE_ENV } from '../../../lambda/shared/registry-schema';
import { REVIEW_ENV } from '../../../lambda/shared/review-schema';
import { LEDGER_TABLE_ENV } from '../../../lambda/shared/tenant-runtime';
import { PLANS, type Plan } from '../../../lambda/shared/tenant-vocabulary';
import { acknowledge, nagArnPrefix } from '../../compliance/acknowledge';
import { handlerOf } from '../bundling';
import {
  REGISTRY_KEY_WILDCARD_REASON,
  registryKeyReadStatement,
  registryTableArn,
} from '../control-plane/tenant-registry';
import { TenantFunction } from '../functions/tenant-function';
import { grantInvokeModelsWithAnyOf, type IGuardrail } from '../guardrail/switchboard-guardrail';
import { PoolTenantAccess } from '../pool/tenant-access-role';
import {
  environmentBytes,
  LAMBDA_ENVIRONMENT_MAX_BYTES,
  modelArnsOf,
  scheduleReconciliation,
} from './inference-function';

/** Props of {@link PooledInferenceFunction}. */
export interface PooledInferenceFunctionProps {
  /** The cell this function serves (`pool-1`). */
  readonly cellId: string;
  /**
   * The cell's pooled ledger: only its name reaches the function. The function's role gets no access to it; every
   * read and write goes through a session of `tenantAccess`, tagged with the tenant.
   */
  readonly ledgerTable: dynamodb.ITable;
  /** The ledger's key (tenant data under each tenant's encryption context): only tenant sessions may use it. */
  readonly ledgerKey: kms.IKey;
  /**
   * A role of another stack that may also assume the cell's tenant-access role with a tenant tag (the control
   * plane's, for purges), by ARN: see `PoolTenantAccessProps.controlPlaneRoleArn`.
   * @default - only this function's role
   */
  readonly controlPlaneRoleArn?: string;
  /** The plans' guardrails: a pooled tenant's calls apply its plan's (`POOL_GUARDRAILS`). */
  readonly guardrails: Readonly<Record<Plan, IGuardrail>>;
  /** The key of those guardrails (decrypted through Bedrock when a call applies one). */
  readonly guardrailKey: kms.IKey;
  /** Key of the function's log group and dead-letter topic (never the ledger's key). */
  readonly key: kms.IKey;
  /** Shared customer-managed policies to attach (X-Ray). */
  readonly sharedPolicies: readonly iam.IManagedPolicy[];
  /**
   * The platform's system preamble, put before every pooled tenant's own on every model call (POOL_ENV.platformPreamble).
   * @default - none
   */
  readonly platformPreamble?: string;
  /**
   * An existing schedule to run the ledger reconciliation on.
   * @default a schedule of its own, every RECONCILE_EVERY_MINUTES minutes
   */
  readonly schedule?: events.Rule;
  /** @default 1024 */
  readonly memoryMb?: number;
  /** @default Duration.seconds(29) */
  readonly timeout?: Duration;
}

/**
 * A pool cell's inference function: the tenant API handler for every tenant placed in the cell. The tenant comes
 * from the authorizer (`requestContext.authorizer.tenantId`), its configuration from the registry.
 *
 * Its own role reaches no tenant data: it may read tenant items of the registry (`TENANT#*`, GetItem) and list
 * tenants through the registry's `byKind` index (the reconciliation), call the catalog's models with one of the
 * plans' guardrails, assume the cell's tenant-access role with the tenant's session tag (that session reads and
 * writes the tenant's own ledger items and uses the data key under the tenant's encryption context), and, when the
 * cell has one, start the cell's review workflow. Nothing on the ledger table or its key.
 */
export class PooledInferenceFunction extends TenantFunction {
  /** The cell's tenant-access role, which only this function's role (and the named control plane role) may assume. */
  readonly tenantAccess: PoolTenantAccess;

  constructor(scope: Construct, id: string, props: PooledInferenceFunctionProps) {
    const region = Stack.of(scope).region;
    const environment: Record<string, string> = {
      [LEDGER_TABLE_ENV]: props.ledgerTable.tableName,
      [REGISTRY_TABLE_ENV]: REGISTRY_TABLE_NAME,
      [POOL_ENV.cellId]: props.cellId,
      [POOL_ENV.guardrails]: Stack.of(scope).toJsonString(
        Object.fromEntries(
          PLANS.map((p) => [
            p,
            { arn: props.guardrails[p].guardrailArn, version: props.guardrails[p].guardrailVersion },
          ]),
        ),
      ),
      ...(props.platformPreamble ? { [POOL_ENV.platformPreamble]: props.platformPreamble } : {}),
    };
    // The tenant-access role's and the review workflow's ARNs are added once they exist (both trust this function's role).
    const envBytes = environmentBytes({
      ...environment,
      [POOL_ENV.tenantAccessRoleArn]: 'x'.repeat(256),
      [REVIEW_ENV.stateMachineArn]: 'x'.repeat(256),
    });
    if (envBytes > LAMBDA_ENVIRONMENT_MAX_BYTES) {
      throw new Error(
        `PooledInferenceFunction ${[scope.node.path, id].filter(Boolean).join('/')}: environment: ${envBytes} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_MAX_BYTES}`,
      );
    }
    super(scope, id, {
      tenantId: props.cellId,
      handler: handlerOf<typeof poolInferenceCode>('pool-inference'),
      purpose: 'pooled tenant API (inference, requests, usage) of the cell',
      key: props.key,
      sharedPolicies: props.sharedPolicies,
      environment,
      calls:
        'only AWS public service endpoints (Bedrock Runtime, DynamoDB, KMS, STS, Step Functions) with SigV4, with a session of the tenant for its data',
      trafficBoundBy:
        "The cell API's stage throttle (all its tenants together), and each tenant's own rate limit enforced by admission before any work,",
      memoryMb: props.memoryMb ?? 1024,
      timeout: props.timeout ?? Duration.seconds(29),
    });
    // Every model of the catalog callable here: a pooled tenant's document may name any of them.
    const modelIds = Object.keys(MODELS).filter((m) => modelsNotCallableFrom(region, [m]).length === 0);
    grantInvokeModelsWithAnyOf(this, {
      guardrails: PLANS.map((p) => props.guardrails[p]),
      key: props.guardrailKey,
      modelArns: modelArnsOf(this, modelIds),
    });
    this.tenantAccess = new PoolTenantAccess(this, 'TenantAccess', {
      table: props.ledgerTable,
      key: props.ledgerKey,
      pooledFunctionRole: this.role.role,
      cellId: props.cellId,
      controlPlaneRoleArn: props.controlPlaneRoleArn,
    });
    this.fn.addEnvironment(POOL_ENV.tenantAccessRoleArn, this.tenantAccess.role.roleArn);
    this.tenantAccess.grantAssume(this);
    const registryArn = registryTableArn(this);
    this.addStatements(
      new iam.PolicyStatement({
        // The tenant's configuration and status, per request (cached per container by the handler).
        sid: 'ReadTenantItems',
        actions: ['dynamodb:GetItem'],
        resources: [registryArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${REGISTRY_PK_PREFIXES.tenant}*`] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      new iam.PolicyStatement({
        // The reconciliation lists the cell's tenants (tenant items only: the index is sparse).
        sid: 'ListTenants',
        actions: ['dynamodb:Query'],
        resources: [`${registryArn}/index/${REGISTRY_TABLE.byCellIndex.name}`],
      }),
      registryKeyReadStatement(this),
    );
    acknowledge(
      this.rolePolicy,
      `AwsSolutions-IAM5[Resource::${nagArnPrefix(this, 'kms')}:key/*]`,
      REGISTRY_KEY_WILDCARD_REASON,
    );
    scheduleReconciliation(this, props.cellId, props.schedule);
  }

  /**
   * Hands the cell's requests that need people to its review workflow: the ARN reaches the handler
   * ({@link REVIEW_ENV.stateMachineArn}) and the function may start executions of it. (A method, not a prop: the
   * workflow's functions take sessions of the tenant-access role this function creates.)
   */
  useReviewWorkflow(stateMachine: sfn.IStateMachine): void {
    this.fn.addEnvironment(REVIEW_ENV.stateMachineArn, stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(this);
  }
}
