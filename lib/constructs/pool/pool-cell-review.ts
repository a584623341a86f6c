import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
// The code of the two functions (type-only imports: nothing of the handlers runs at synth).
import type * as poolReviewApiCode from '../../../lambda/pool-review-api/index';
import type * as poolReviewStepsCode from '../../../lambda/pool-review-steps/index';
import { TOKEN_TENANT_CONTEXT_KEY } from '../../../lambda/review/adapters/kms-token-cipher';
import {
  POOL_ENV,
  REGISTRY_TABLE_NAME,
  REVIEW_TENANT_ATTRIBUTE,
  reviewersTopicName,
} from '../../../lambda/shared/pool-runtime';
import { REGISTRY_TABLE, REGISTRY_TABLE_ENV } from '../../../lambda/shared/registry-schema';
import {
  POOLED_AWAIT_SECONDS_PATH,
  REVIEW_ENV,
  TASK_TOKEN_CONTEXT_KEY,
  TASK_TOKEN_CONTEXT_VALUE,
} from '../../../lambda/shared/review-schema';
import { REVIEW_EXECUTION_MARGIN_MINUTES } from '../../../lambda/shared/tenant-file/resolution-rules';
import { LEDGER_TABLE_ENV } from '../../../lambda/shared/tenant-runtime';
import { acknowledge, nagArnPrefix } from '../../compliance/acknowledge';
import { handlerOf } from '../bundling';
import {
  REGISTRY_KEY_WILDCARD_REASON,
  registryKeyReadStatement,
  registryTableArn,
  registryTenantItemsReadStatement,
} from '../control-plane/tenant-registry';
import { TenantFunction } from '../functions/tenant-function';
import { defineReviewWorkflow, reviewStateMachineName } from '../review/review-workflow';
import type { TenantData } from '../tenant-data/tenant-data';
import type { CellOperationsKey } from './cell-operations-key';
import type { PoolTenantAccess } from './tenant-access-role';

/** The longest review a tenant file may ask for (tenant-schema.ts `escalation.reviewTimeoutMinutes`). */
export const POOLED_REVIEW_MAX_MINUTES = 10_080;

/** Props of {@link PoolCellReview}. */
export interface PoolCellReviewProps {
  readonly cellId: string;
  /** The cell's pooled ledger and its key (task tokens are encrypted with it, under their own context). */
  readonly data: TenantData;
  /** The cell's operations key: the functions' logs, the reviewers topic, the state machine's logs. */
  readonly operations: CellOperationsKey;
  /** The cell's tenant-access role: both functions take tenant sessions of it. */
  readonly tenantAccess: PoolTenantAccess;
  /** Shared customer-managed policies for the functions (X-Ray). */
  readonly sharedPolicies: readonly iam.IManagedPolicy[];
  /** Shared policies for the state machine role (X-Ray, vended log delivery). */
  readonly stateMachinePolicies: readonly iam.IManagedPolicy[];
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** The cell's housekeeping schedule (every five minutes): the review sweep is added to its targets. */
  readonly schedule: events.Rule;
}

/**
 * Human review for every pooled tenant of a cell, with no resource per tenant: one Standard state machine (the
 * silo tenants' workflow, review-workflow.ts) whose executions name their tenant, one steps function and one review
 * API function that reach a tenant's items only through its session of the tenant-access role, one reviewers topic
 * whose messages carry the tenant as a message attribute (the control plane subscribes each tenant's reviewers
 * with a filter policy on it), and the cell's review sweep on the cell's five-minute housekeeping schedule.
 *
 * How long a review waits is the tenant's (its registry item): `RecordPending` answers it and `AwaitDecision` reads
 * it with `TimeoutSecondsPath`/`HeartbeatSecondsPath`; the execution's own timeout covers the longest review a
 * tenant file may ask for. Task tokens are encrypted with the cell's data key under the purpose, the review and the
 * tenant: only the review API's role may decrypt them (key policy deny), and a tenant session cannot at all.
 */
export class PoolCellReview extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly topic: sns.Topic;
  readonly steps: TenantFunction;
  readonly api: TenantFunction;

  constructor(scope: Construct, id: string, props: PoolCellReviewProps) {
    super(scope, id);
    const { cellId, data, operations, tenantAccess } = props;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const { name: stateMachineName, arn: stateMachineArn } = reviewStateMachineName(this, cellId);
    const environment = {
      [LEDGER_TABLE_ENV]: data.table.tableName,
      [REGISTRY_TABLE_ENV]: REGISTRY_TABLE_NAME,
      [POOL_ENV.cellId]: cellId,
      [POOL_ENV.tenantAccessRoleArn]: tenantAccess.role.roleArn,
      [REVIEW_ENV.keyId]: data.key.keyArn,
    };

    this.topic = new sns.Topic(this, 'Reviewers', {
      topicName: reviewersTopicName(cellId),
      displayName: `Switchboard ${cellId}: answers of pooled tenants waiting for review`,
      masterKey: operations.key,
      enforceSSL: true,
    });
    this.steps = new TenantFunction(this, 'Steps', {
      tenantId: cellId,
      handler: handlerOf<typeof poolReviewStepsCode>('pool-review-steps'),
      purpose: "pooled tenants' review workflow steps and the cell's review sweep",
      calls:
        'only AWS public service endpoints (DynamoDB, KMS, STS, Step Functions, CloudWatch) with SigV4, with a session of the tenant for its data',
      key: operations.key,
      sharedPolicies: props.sharedPolicies,
      environment: { ...environment, [REVIEW_ENV.stateMachineArn]: stateMachineArn },
      trafficBoundBy:
        "The cell's review executions (each tenant's review caps bound how many it starts) and the five-minute sweep",
      timeout: Duration.seconds(60),
      logRetention: retention,
    });
    this.api = new TenantFunction(this, 'Api', {
      tenantId: cellId,
      handler: handlerOf<typeof poolReviewApiCode>('pool-review-api'),
      purpose: "pooled tenants' review API (list, show, decide, export)",
      calls:
        'only AWS public service endpoints (DynamoDB, KMS, STS, Step Functions) with SigV4, with a session of the tenant for its data',
      key: operations.key,
      sharedPolicies: props.sharedPolicies,
      environment,
      trafficBoundBy: "The cell API's stage throttle",
      timeout: Duration.seconds(29),
      logRetention: retention,
    });

    for (const fn of [this.steps, this.api]) operations.grantPublishThroughSns(fn); // dead letters
    // Tenant data only through tenant sessions; the registry's tenant items (and the cell's tenants, for the sweep).
    tenantAccess.allowSessionsFor(this.steps, this.steps.roleArn, 'ReviewStepsWithTenantTag');
    tenantAccess.allowSessionsFor(this.api, this.api.roleArn, 'ReviewApiWithTenantTag');
    const registryArn = registryTableArn(this);
    for (const fn of [this.steps, this.api]) {
      fn.addStatements(registryTenantItemsReadStatement(this), registryKeyReadStatement(this));
      acknowledge(
        fn.rolePolicy,
        `AwsSolutions-IAM5[Resource::${nagArnPrefix(this, 'kms')}:key/*]`,
        REGISTRY_KEY_WILDCARD_REASON,
      );
    }
    // The cell's tenants: the sweep's, and the console's tenant list.
    for (const fn of [this.steps, this.api]) {
      fn.addStatements(
        new iam.PolicyStatement({
          sid: 'ListCellTenants',
          actions: ['dynamodb:Query'],
          resources: [`${registryArn}/index/${REGISTRY_TABLE.byCellIndex.name}`],
        }),
      );
    }
    this.steps.addStatements(
      new iam.PolicyStatement({
        sid: 'RestartFailedHandOffs',
        actions: ['states:StartExecution'],
        resources: [stateMachineArn],
      }),
    );

    // Task tokens: the steps role encrypts, only the review API role decrypts, both under the token purpose only
    // (with the review and the tenant in the context). A tenant session's key use needs the context to be exactly
    // its tenant's, so it can neither encrypt nor decrypt a token.
    const purpose = { [`kms:EncryptionContext:${TASK_TOKEN_CONTEXT_KEY}`]: TASK_TOKEN_CONTEXT_VALUE };
    const tokenContextKeys = {
      'ForAllValues:StringEquals': {
        'kms:EncryptionContextKeys': [TASK_TOKEN_CONTEXT_KEY, 'switchboard:review', TOKEN_TENANT_CONTEXT_KEY],
      },
    };
    const tokenUse = (fn: TenantFunction, action: 'kms:Encrypt' | 'kms:Decrypt', sid: string) => {
      const conditions = { StringEquals: purpose, ...tokenContextKeys };
      fn.addStatements(new iam.PolicyStatement({ sid, actions: [action], resources: [data.key.keyArn], conditions }));
      data.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `${sid}ForThe${fn === this.steps ? 'Steps' : 'Api'}Role`,
          principals: [new iam.ArnPrincipal(fn.roleArn)],
          actions: [action],
          resources: ['*'],
          conditions,
        }),
      );
    };
    tokenUse(this.steps, 'kms:Encrypt', 'EncryptTaskTokens');
    tokenUse(this.api, 'kms:Decrypt', 'DecryptTaskTokens');
    data.restrictDecryptByPurpose(TASK_TOKEN_CONTEXT_KEY, TASK_TOKEN_CONTEXT_VALUE, this.api.roleArn);

    this.stateMachine = defineReviewWorkflow(this, {
      steps: this.steps.fn,
      topic: this.topic,
      notify: {
        subject: `Switchboard ${cellId}: an answer is waiting for review`,
        message: sfn.TaskInput.fromJsonPathAt(
          `States.Format('Review {} of request {} (tenant {}) is waiting for a decision. Open it with GET /v1/tenants/{}/reviews/{} (reviewer credentials). It expires {} seconds after it was created at the latest, and earlier if nobody opens it for {} seconds.', $.reviewId, $.requestId, $.tenantId, $.tenantId, $.reviewId, ${POOLED_AWAIT_SECONDS_PATH.timeout}, ${POOLED_AWAIT_SECONDS_PATH.heartbeat})`,
        ),
        messageAttributes: {
          [REVIEW_TENANT_ATTRIBUTE]: { value: sfn.JsonPath.stringAt('$.tenantId') },
        },
      },
      awaitDecision: {
        heartbeat: sfn.Timeout.at(POOLED_AWAIT_SECONDS_PATH.heartbeat),
        timeout: sfn.Timeout.at(POOLED_AWAIT_SECONDS_PATH.timeout),
      },
      payload: { 'tenantId.$': '$.tenantId' },
      webhook: false,
      stateMachineName,
      stateMachineArn,
      timeout: Duration.minutes(POOLED_REVIEW_MAX_MINUTES + REVIEW_EXECUTION_MARGIN_MINUTES),
      owner: `${cellId} (pooled tenants)`,
      rolePolicies: props.stateMachinePolicies,
      grantTopicKey: (role) => operations.grantPublishThroughSns(role), // the encrypted reviewers topic
      key: operations.key,
      logRetention: retention,
    }).stateMachine;
    this.stateMachine.grantTaskResponse(this.api);

    // The cell's review sweep every five minutes, on the cell's housekeeping schedule.
    props.schedule.addTarget(
      new targets.LambdaFunction(this.steps.fn, {
        event: events.RuleTargetInput.fromObject({ step: 'sweep' }),
        retryAttempts: 0,
      }),
    );
  }

  /** Lets `grantee` (the pooled inference function) start the cell's review executions. */
  grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }
}
