import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { POOL_CELL_ID_PATTERN, REGISTRY_TABLE_NAME } from '../../lambda/shared/pool-runtime';
import { PLANS, type Plan } from '../../lambda/shared/tenant-vocabulary';
import { TENANTS_PER_POOL_CELL } from '../capacity/pool';
import { acknowledge } from '../compliance/acknowledge';
import { markPoolCell } from '../compliance/isolation-markers';
import { PLAN_DEFAULTS } from '../config/plan-defaults';
import type { PoolCellTarget } from '../constructs/control-plane/control-plane';
import { controlPlaneRoleArn } from '../constructs/control-plane/names';
import type { IGuardrail } from '../constructs/guardrail/switchboard-guardrail';
import { PooledInferenceFunction } from '../constructs/inference/pooled-inference-function';
import { CellOperationsKey } from '../constructs/pool/cell-operations-key';
import { PoolAuthorizer } from '../constructs/pool/pool-authorizer';
import { PoolCellMonitoring } from '../constructs/pool/pool-cell-monitoring';
import { PoolCellReview } from '../constructs/pool/pool-cell-review';
import { STAGE_NAME, TenantApi } from '../constructs/tenant-api/tenant-api';
import { TenantData } from '../constructs/tenant-data/tenant-data';
import type { PlatformStack } from './platform-stack';

/**
 * The stage throttle of a cell's API, for all its tenants together (each tenant's own limits are enforced by the
 * pooled function's admission): half of API Gateway's default account throttle per region (10,000 requests per
 * second, burst 5,000: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html),
 * so one busy cell cannot take the whole region's throttle from the silo tenants and the other cell.
 */
export const POOL_CELL_STAGE_THROTTLE = { rateLimit: 5_000, burstLimit: 2_500 } as const;

/** Props of {@link PoolCellStack}. */
export interface PoolCellStackProps extends StackProps {
  /** The cell id (`pool-<n>`). */
  readonly cellId: string;
  readonly platform: PlatformStack;
}

/** The stack name of a pool cell: `pool-1` → `Switchboard-Pool-1`. */
export function poolCellStackName(cellId: string): string {
  return `Switchboard-Pool-${cellId.replace(/^pool-/, '')}`;
}

/**
 * One pool cell, shared by up to {@link TENANTS_PER_POOL_CELL} pooled tenants: the pooled ledger and its key, the
 * pooled inference function and the cell's tenant-access role, the REST API behind the pool authorizer, and the
 * cell's dashboard and alarms. It names the tenant registry by its fixed name and has no reference to the control
 * plane stack (which references the cell): deploy the cells before the control plane.
 * The cell's human review (PoolCellReview) serves all its tenants: one state machine, one reviewers topic, one
 * reviewer role whose sessions reach only their tenant's review routes.
 */
export class PoolCellStack extends Stack implements PoolCellTarget {
  readonly id: string;
  readonly capacity = TENANTS_PER_POOL_CELL;
  readonly data: TenantData;
  readonly inference: PooledInferenceFunction;
  /** Human review for the cell's tenants (one state machine, no resource per tenant). */
  readonly review: PoolCellReview;
  readonly authorizer: PoolAuthorizer;
  readonly tenantApi: TenantApi;
  readonly stageName = STAGE_NAME;
  readonly hasReviewersTopic = true;

  constructor(scope: Construct, id: string, props: PoolCellStackProps) {
    super(scope, id, props);
    const { cellId, platform } = props;
    if (!POOL_CELL_ID_PATTERN.test(cellId)) {
      throw new Error(`PoolCellStack ${id}: cellId: "${cellId}" must match ${POOL_CELL_ID_PATTERN}`);
    }
    this.id = cellId;
    this.data = new TenantData(this, 'Data', {
      tenantId: cellId,
      owner: { kind: 'cell', id: cellId },
      backupRole: platform.backup.role,
      keyAdminRoles: platform.config.keyAdminRoles,
    });
    const ops = new CellOperationsKey(this, 'OperationsKey', {
      cellId,
      adminRoles: platform.config.keyAdminRoles,
    });
    // One schedule for the cell's housekeeping (the review sweep, the ledger reconciliation): one EventBridge rule
    // per cell, the quota that bounds cells per region (lib/capacity).
    const housekeeping = new events.Rule(this, 'Housekeeping', {
      description: `Switchboard ${cellId}: housekeeping (review sweep, ledger reconciliation)`,
      schedule: events.Schedule.rate(Duration.minutes(5)),
    });
    acknowledge(
      housekeeping,
      'Serverless-EventBusDLQ',
      "The schedule only triggers the cell's housekeeping every five minutes (the review sweep, the ledger reconciliation); every run is idempotent and repeats in full what a missed one would have done, and the events carry no data, so a dead-letter queue would hold nothing worth replaying.",
    );
    this.inference = new PooledInferenceFunction(this, 'Inference', {
      schedule: housekeeping,
      cellId,
      ledgerTable: this.data.table,
      ledgerKey: this.data.key,
      controlPlaneRoleArn: controlPlaneRoleArn(this),
      platformPreamble: platform.config.systemPreamble,
      guardrails: Object.fromEntries(PLANS.map((p) => [p, platform.guardrails.forPlan(p)])) as Record<Plan, IGuardrail>,
      guardrailKey: platform.guardrails.key,
      key: ops.key,
      sharedPolicies: [platform.tracingPolicy],
    });
    ops.grantPublishThroughSns(this.inference);
    this.review = new PoolCellReview(this, 'Review', {
      cellId,
      data: this.data,
      operations: ops,
      tenantAccess: this.inference.tenantAccess,
      sharedPolicies: [platform.tracingPolicy],
      stateMachinePolicies: [platform.tracingPolicy, platform.stateMachineLogDeliveryPolicy],
      schedule: housekeeping,
    });
    this.inference.useReviewWorkflow(this.review.stateMachine);
    this.authorizer = new PoolAuthorizer(this, 'Authorizer', {
      cellId,
      registryTable: dynamodb.Table.fromTableName(this, 'Registry', REGISTRY_TABLE_NAME),
      key: ops.key,
      sharedPolicies: [platform.tracingPolicy],
    });
    this.tenantApi = new TenantApi(this, 'Api', {
      tenantId: cellId,
      handler: this.inference.fn,
      key: ops.key,
      authorization: { type: 'poolAuthorizer', authorizer: this.authorizer, throttle: POOL_CELL_STAGE_THROTTLE },
      webAclArn: platform.webAclArn,
      reviewHandler: this.review.api.fn,
      reviewerDirectory: platform.reviewers,
    });
    new PoolCellMonitoring(this, 'Monitoring', {
      cellId,
      api: this.tenantApi.api,
      stageName: STAGE_NAME,
      inference: this.inference.fn,
      authorizer: this.authorizer.function.fn,
      table: this.data.table,
      review: { steps: this.review.steps.fn, api: this.review.api.fn, stateMachine: this.review.stateMachine },
      platformOpsTopic: platform.opsTopic,
      thresholds: PLAN_DEFAULTS.basic.alarms,
    });

    // For the isolation matrix: which resources hold the cell's tenant data and who may take tenant sessions. No
    // tenant ids: a pooled tenant changes no template (the matrix probes the cell with tenants of its own).
    markPoolCell(this, {
      cellId,
      table: this.data.table,
      key: this.data.key,
      accessRole: this.inference.tenantAccess.role,
      pooledFunctionRole: this.inference.fn.role as iam.IRole,
      sessionRoles: [this.review.steps.fn.role as iam.IRole, this.review.api.fn.role as iam.IRole],
      ...(this.tenantApi.reviewerRole
        ? { review: { api: this.tenantApi.api, reviewerRole: this.tenantApi.reviewerRole } }
        : {}),
      tenants: [],
    });

    new CfnOutput(this, 'ApiUrl', { value: this.tenantApi.url, description: 'Base URL of the pooled tenant API' });
    new CfnOutput(this, 'LedgerTable', { value: this.data.table.tableName });
    new CfnOutput(this, 'ReviewersTopicArn', {
      value: this.review.topic.topicArn,
      description:
        "Reviewer notifications of the cell's tenants (message attribute tenantId; the control plane subscribes each tenant's reviewers with a filter policy)",
    });
    if (this.tenantApi.reviewerRole) {
      new CfnOutput(this, 'ReviewerRoleArn', {
        value: this.tenantApi.reviewerRole.roleArn,
        description:
          "Role pooled tenants' reviewers assume with session tag switchboard:tenant=<tenant> (their own principal tag switchboard:reviewer must name it) and a source identity as session name, to call /v1/tenants/<tenant>/reviews (SigV4)",
      });
    }
  }

  /** The cell's REST API (for the control plane: its authorizer cache is flushed per stage). */
  get api() {
    return this.tenantApi.api;
  }

  get ledgerTable(): dynamodb.ITable {
    return this.data.table;
  }

  get ledgerKey(): kms.IKey {
    return this.data.key;
  }

  get tenantAccessRole(): iam.IRole {
    return this.inference.tenantAccess.role;
  }
}
