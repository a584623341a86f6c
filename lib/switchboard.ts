/**
 * Builds the whole Switchboard app on a given `App`: used by bin/app.ts and by tests and benchmarks, so
 * they synthesize exactly what `cdk synth` does.
 */
import { type App, type Environment, Token, Validations } from 'aws-cdk-lib';
import { catalogRegions, isKnownModel, MODELS } from '../lambda/shared/catalog';
import { assessCapacity, CapacityError } from './capacity/model';
import { tenantDeploymentProblems } from './capacity/tenant-rules';
import { CompliancePlugin } from './compliance/plugin';
import { loadTenants, loadTenantsForCapacity } from './config/load-tenants';
import { type PlatformConfig, PlatformConfigError } from './config/platform-config';
import type { TenantConfig } from './config/tenant-config';
import { PlatformStack } from './stacks/platform-stack';
import { TenantStack, tenantStackName } from './stacks/tenant-stack';

/** Options of {@link buildSwitchboard}. */
export interface SwitchboardOptions {
  /** Folder of tenant files. */
  readonly tenantsDir: string;
  /** The platform configuration (`cdk.json` → `context.switchboard`, resolved). */
  readonly platform: PlatformConfig;
  /**
   * Build only this tenant's stack (plus the platform stack it references); other files are not read.
   * @default - every tenant
   */
  readonly only?: string;
  /**
   * Deployment environment of every stack.
   * @default - region us-east-1, account from the CLI
   */
  readonly env?: Environment;
  /**
   * Register the compliance plugin (checks + report).
   * @default true
   */
  readonly compliance?: boolean;
}

/** What was built. */
export interface SwitchboardApp {
  readonly platform: PlatformStack;
  readonly tenants: ReadonlyMap<string, TenantStack>;
  readonly configs: readonly TenantConfig[];
  readonly compliance?: CompliancePlugin;
}

/** Name of the platform stack. */
export const PLATFORM_STACK_NAME = 'Switchboard-Platform';

/** Platform settings that name catalog entries, and a region the catalog can serve at all. */
function checkPlatformAgainstCatalog(platform: PlatformConfig, region: string): void {
  const problems: string[] = [];
  for (const id of Object.keys(platform.modelSpeeds)) {
    if (!isKnownModel(id)) {
      problems.push(
        `cdk.json context "switchboard": modelSpeeds: "${id}" is not a catalog model; known: ${Object.keys(MODELS).join(', ')}`,
      );
    }
  }
  if (!Object.values(MODELS).some((m) => m.sourceRegions.includes(region))) {
    problems.push(
      `region: ${region} has no inference profile in the model catalog (lambda/shared/catalog.ts); deploy to ${catalogRegions().join(', ')}`,
    );
  }
  if (problems.length) throw new PlatformConfigError(problems);
}

export function buildSwitchboard(app: App, opts: SwitchboardOptions): SwitchboardApp {
  const env = opts.env ?? { region: 'us-east-1' };
  const region = env.region;
  if (region === undefined || Token.isUnresolved(region)) {
    throw new PlatformConfigError([
      'region: must be known at synth (models, quotas and IAM depend on it); pass -c region=<region> or set CDK_DEFAULT_REGION',
    ]);
  }
  checkPlatformAgainstCatalog(opts.platform, region);
  const configs = loadTenants({
    dir: opts.tenantsDir,
    only: opts.only,
    checks: (t) => tenantDeploymentProblems(t, region, opts.platform),
  });
  // Fail fast, before a construct is built, when the fleet does not fit the account's quotas. A single-tenant
  // synth (the deploy path of one tenant) still counts every tenant file of the folder.
  const fleet = opts.only === undefined ? { tenants: configs, uncounted: [] } : loadTenantsForCapacity(opts.tenantsDir);
  const { report: capacity, crossed } = assessCapacity({
    tenants: fleet.tenants,
    platform: opts.platform,
    partial: fleet.uncounted.length > 0,
  });
  if (crossed.length) throw new CapacityError(crossed);
  const platform = new PlatformStack(app, PLATFORM_STACK_NAME, {
    env,
    config: opts.platform,
    description: 'Switchboard platform: shared key, ops alerts, WAF, backup plan, API Gateway logging role',
    // Known only when every tenant file is read; a `-c tenant=<id>` synth leaves the fleet budget line out.
    fleetMonthlyBudgetUsd: opts.only ? undefined : configs.reduce((sum, t) => sum + t.monthlyBudgetUsd, 0),
  });
  const tenants = new Map<string, TenantStack>();
  for (const tenant of configs) {
    const name = tenantStackName(tenant.id);
    tenants.set(
      tenant.id,
      new TenantStack(app, name, {
        env,
        tenant,
        platform,
        description: `Switchboard tenant ${tenant.id} (${tenant.plan})`,
      }),
    );
  }
  let compliance: CompliancePlugin | undefined;
  if (opts.compliance ?? true) {
    // A single-tenant synth writes its report where the fleet's was: mark it, so nobody reads it as the fleet's.
    compliance = new CompliancePlugin(app, { partial: opts.only ? { only: opts.only } : undefined, capacity });
    Validations.of(app).addPlugins(compliance);
  }
  return { platform, tenants, configs, compliance };
}
