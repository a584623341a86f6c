import { CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type TenantConfig, toRuntimeConfig } from '../config/tenant-schema';
import { InferenceFunction } from '../constructs/inference/inference-function';
import { TenantApi } from '../constructs/tenant-api/tenant-api';
import { TenantData } from '../constructs/tenant-data/tenant-data';
import type { PlatformStack } from './platform-stack';

/** Tag keys every tenant resource carries. */
export const TENANT_TAGS = { tenant: 'switchboard:tenant', tier: 'switchboard:tier' } as const;

/** Props of {@link TenantStack}. */
export interface TenantStackProps extends StackProps {
  readonly tenant: TenantConfig;
  readonly platform: PlatformStack;
}

/** The stack name of a tenant (what `cdk deploy` takes). */
export function tenantStackName(tenantId: string): string {
  return `Switchboard-Tenant-${tenantId}`;
}

/** One tenant's isolated resources: key, ledger, inference function, API. Composes constructs only. */
export class TenantStack extends Stack {
  readonly data: TenantData;
  readonly inference: InferenceFunction;
  readonly api: TenantApi;

  constructor(scope: Construct, id: string, props: TenantStackProps) {
    super(scope, id, props);
    const { tenant, platform } = props;

    this.data = new TenantData(this, 'Data', { tenantId: tenant.id, backup: platform.backup });
    this.inference = new InferenceFunction(this, 'Inference', {
      runtimeConfig: toRuntimeConfig(tenant),
      table: this.data.table,
      key: this.data.key,
      sharedPolicies: [platform.lambdaRuntimePolicy],
      reservedConcurrency: tenant.lambda.reservedConcurrency,
      memoryMb: tenant.lambda.memoryMb,
      timeout: Duration.seconds(tenant.lambda.timeoutSeconds),
    });
    this.data.grantLedgerReadWrite(this.inference);
    this.api = new TenantApi(this, 'Api', {
      tenantId: tenant.id,
      handler: this.inference.fn,
      key: this.data.key,
      throttle: tenant.throttle,
      quota: tenant.quota,
      webAclArn: platform.webAclArn,
      integrationTimeout: Duration.seconds(tenant.lambda.timeoutSeconds),
    });

    for (const [k, v] of Object.entries(tenant.tags)) Tags.of(this).add(k, v);
    Tags.of(this).add(TENANT_TAGS.tenant, tenant.id);
    Tags.of(this).add(TENANT_TAGS.tier, tenant.tier);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the tenant API' });
    new CfnOutput(this, 'ApiKeyId', {
      value: this.api.apiKey.keyId,
      description: 'aws apigateway get-api-key --api-key <id> --include-value',
    });
    new CfnOutput(this, 'LedgerTable', { value: this.data.table.tableName });
  }
}
