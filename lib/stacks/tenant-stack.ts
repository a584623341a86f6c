import { CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { REVIEW_ENV } from '../../lambda/shared/review-schema';
import { siloKeyPendingWindowDays } from '../../lambda/shared/silo-key';
import { integrationTimeoutSeconds } from '../capacity/tenant-rules';
import { markTenantStack } from '../compliance/deploy-readiness';
import { toRuntimeConfig } from '../config/runtime-config';
import { SWITCHBOARD_TAGS } from '../config/tags';
import type { TenantConfig } from '../config/tenant-config';
import { type IGuardrail, SwitchboardGuardrail } from '../constructs/guardrail/switchboard-guardrail';
import { InferenceFunction } from '../constructs/inference/inference-function';
import { TenantMonitoring } from '../constructs/monitoring/tenant-monitoring';
import { TenantReview } from '../constructs/review/tenant-review';
import { STAGE_NAME, TenantApi } from '../constructs/tenant-api/tenant-api';
import { TenantData } from '../constructs/tenant-data/tenant-data';
import type { PlatformStack } from './platform-stack';

/** Tag keys every tenant resource carries (reserved in tenant files: lib/config/tags.ts). */
export const TENANT_TAGS = { tenant: SWITCHBOARD_TAGS.tenant, plan: SWITCHBOARD_TAGS.plan } as const;

/** Props of {@link TenantStack}. */
export interface TenantStackProps extends StackProps {
  readonly tenant: TenantConfig;
  readonly platform: PlatformStack;
}

/** The stack name of a tenant (what `cdk deploy` takes). */
export function tenantStackName(tenantId: string): string {
  return `Switchboard-Tenant-${tenantId}`;
}

/**
 * One tenant's isolated resources: key, ledger, inference function, API, and a guardrail of its own when its file
 * customizes one (otherwise the plan's, from the platform stack). Composes constructs only.
 */
export class TenantStack extends Stack {
  readonly data: TenantData;
  readonly inference: InferenceFunction;
  readonly api: TenantApi;
  readonly review: TenantReview;
  /** The guardrail every model call of the tenant applies: its plan's, or its own when its file customizes it. */
  readonly guardrail: IGuardrail;

  constructor(scope: Construct, id: string, props: TenantStackProps) {
    super(scope, id, props);
    const { tenant, platform } = props;
    markTenantStack(this, tenant.id);

    this.data = new TenantData(this, 'Data', {
      tenantId: tenant.id,
      backupRole: platform.backup.role,
      keyAdminRoles: platform.config.keyAdminRoles,
      // Offboarding (the stack destroyed) shreds the tenant's data: its key is deleted after its retention.
      shredKeyAfterDays: siloKeyPendingWindowDays(tenant.dataRetentionDays),
    });
    this.review = new TenantReview(this, 'Review', {
      tenant,
      data: this.data,
      sharedPolicies: [platform.tracingPolicy],
      stateMachinePolicies: [platform.tracingPolicy, platform.stateMachineLogDeliveryPolicy],
      webhookOperatorRoles: platform.config.webhookOperatorRoles,
    });
    this.guardrail =
      tenant.guardrail.source === 'tenant'
        ? new SwitchboardGuardrail(this, 'Guardrail', {
            name: `sb-tenant-${tenant.id}`,
            owner: `tenant ${tenant.id}`,
            policy: tenant.guardrail.policy,
            key: platform.guardrails.key,
          })
        : platform.guardrails.forPlan(tenant.plan);
    this.inference = new InferenceFunction(this, 'Inference', {
      environment: { [REVIEW_ENV.stateMachineArn]: this.review.stateMachine.stateMachineArn },
      schedule: this.review.housekeeping,
      runtimeConfig: toRuntimeConfig(tenant, platform.config),
      guardrail: this.guardrail,
      table: this.data.table,
      key: this.data.key,
      sharedPolicies: [platform.tracingPolicy],
      reservedConcurrency: tenant.lambda.reservedConcurrency || undefined,
      memoryMb: tenant.lambda.memoryMb,
      timeout: Duration.seconds(tenant.lambda.timeoutSeconds),
      maxTimeout: Duration.seconds(integrationTimeoutSeconds(platform.config)),
    });
    this.data.grantLedgerReadWrite(this.inference, 'inference');
    this.review.stateMachine.grantStartExecution(this.inference);
    this.api = new TenantApi(this, 'Api', {
      tenantId: tenant.id,
      handler: this.inference.fn,
      key: this.data.key,
      authorization: { type: 'apiKey', throttle: tenant.throttle, quota: tenant.quota },
      webAclArn: platform.webAclArn,
      integrationTimeout: Duration.seconds(tenant.lambda.timeoutSeconds),
      reviewHandler: this.review.api.fn,
      reviewerPrincipals: tenant.escalation.reviewerPrincipals,
      reviewerDirectory: platform.reviewers,
    });
    // Its reviewers in the review console: the members of this group of the platform's user pool.
    platform.reviewers.addTenantGroup(this, 'ReviewerGroup', tenant.id);

    for (const [k, v] of Object.entries(tenant.tags)) Tags.of(this).add(k, v);
    Tags.of(this).add(TENANT_TAGS.tenant, tenant.id);
    Tags.of(this).add(TENANT_TAGS.plan, tenant.plan);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the tenant API' });
    if (this.api.apiKey) {
      new CfnOutput(this, 'ApiKeyId', {
        value: this.api.apiKey.keyId,
        description: 'aws apigateway get-api-key --api-key <id> --include-value',
      });
    }
    new CfnOutput(this, 'LedgerTable', { value: this.data.table.tableName });
    if (this.review.webhookSecret) {
      new CfnOutput(this, 'WebhookSecretArn', {
        value: this.review.webhookSecret.secretArn,
        description: 'Webhook URL and signing key: npm run webhook:set / webhook:rotate / webhook:key -- --tenant <id>',
      });
    }
    if (this.api.reviewerRole) {
      new CfnOutput(this, 'ReviewerRoleArn', {
        value: this.api.reviewerRole.roleArn,
        description:
          'Role reviewers assume to call /v1/reviews (SigV4), with a source identity equal to the session name; allow sts:AssumeRole and sts:SetSourceIdentity on it to your reviewers',
      });
    }

    // Monitoring: dashboard Switchboard-<tenant>, alarms to the tenant and platform ops topics. The tenant ops
    // topic is encrypted with the tenant key, whose owner lets CloudWatch alarms use it.
    if (tenant.opsEmails.length) this.data.allowCloudWatchAlarms();
    const runtime = toRuntimeConfig(tenant);
    new TenantMonitoring(this, 'Monitoring', {
      tenantId: tenant.id,
      api: this.api.api,
      stageName: STAGE_NAME,
      fn: this.inference.fn,
      table: this.data.table,
      key: this.data.key,
      platformOpsTopic: platform.opsTopic,
      opsEmails: tenant.opsEmails,
      alarmSet: tenant.monitoring.alarms,
      dashboard: tenant.monitoring.dashboard,
      monthlyBudgetUsd: tenant.monthlyBudgetUsd,
      tiers: tenant.models.allowed,
      bedrockModelIds: [
        ...new Set([...Object.values(runtime.tierModels), ...Object.values(runtime.tierFallbacks).flat()]),
      ] as string[],
      thresholds: tenant.alarms,
      reviewStateMachine: this.review.stateMachine,
    });
  }
}
