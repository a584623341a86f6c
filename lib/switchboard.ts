/**
 * Builds the whole Switchboard app on a given `App`: used by bin/app.ts and by tests and benchmarks, so
 * they synthesize exactly what `cdk synth` does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type App, type Environment, Token, Validations } from 'aws-cdk-lib';
import { parse as parseYaml } from 'yaml';
import { catalogRegions, isKnownModel, MODELS } from '../lambda/shared/catalog';
import { assessCapacity, CapacityError } from './capacity/model';
import { tenantDeploymentProblems } from './capacity/tenant-rules';
import { CompliancePlugin } from './compliance/plugin';
import { loadTenants, loadTenantsForCapacity, TenantConfigError } from './config/load-tenants';
import { type PlatformConfig, PlatformConfigError } from './config/platform-config';
import type { TenantConfig } from './config/tenant-config';
import { CONTROL_PLANE_STACK_NAME, ControlPlaneStack } from './stacks/control-plane-stack';
import { PlatformStack } from './stacks/platform-stack';
import { PoolCellStack, poolCellStackName } from './stacks/pool-cell-stack';
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
  /** The silo tenants' stacks, by tenant id. */
  readonly tenants: ReadonlyMap<string, TenantStack>;
  /** The pool cells' stacks, by cell id (none in a single-tenant synth). */
  readonly cells: ReadonlyMap<string, PoolCellStack>;
  /** The control plane stack (not in a single-tenant synth). */
  readonly controlPlane?: ControlPlaneStack;
  /** Every tenant file read, silo and pooled. */
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
  if (opts.only !== undefined && configs[0]?.isolation === 'pool') {
    throw new TenantConfigError([
      `-c tenant=${opts.only}: ${opts.only} is a pooled tenant (isolation: pool): it has no stack of its own. It is served by a pool cell and onboarded through the control plane (npm run tenant:onboard); deploy the cells and the control plane with a full synth (cdk deploy ${poolCellStackName(opts.platform.poolCells[0]!)} ${CONTROL_PLANE_STACK_NAME}), or set isolation: silo to give it a stack`,
    ]);
  }
  const platform = new PlatformStack(app, PLATFORM_STACK_NAME, {
    env,
    config: opts.platform,
    description: 'Switchboard platform: shared key, ops alerts, WAF, backup plan, API Gateway logging role',
    // Known only when every tenant file is read; a `-c tenant=<id>` synth leaves the fleet budget line out.
    fleetMonthlyBudgetUsd: opts.only ? undefined : configs.reduce((sum, t) => sum + t.monthlyBudgetUsd, 0),
  });
  // Pooled tenants get no stack: they are counted and validated above, and served by the cells.
  const silo = configs.filter((t) => t.isolation === 'silo');
  const cells = new Map<string, PoolCellStack>();
  let controlPlane: ControlPlaneStack | undefined;
  if (opts.only === undefined) {
    for (const cellId of opts.platform.poolCells) {
      const cell = new PoolCellStack(app, poolCellStackName(cellId), {
        env,
        cellId,
        platform,
        description: `Switchboard pool cell ${cellId}: pooled tenants' API, inference function, ledger (isolated by IAM)`,
      });
      cell.addStackDependency(platform, "the plans' guardrails, the shared policies, WAF, ops topic, backup role");
      cells.set(cellId, cell);
    }
    controlPlane = new ControlPlaneStack(app, CONTROL_PLANE_STACK_NAME, {
      env,
      platform,
      cells: [...cells.values()],
      siloTenants: silo.map((t) => ({ tenantId: t.id, document: tenantDocument(opts.tenantsDir, t.id) })),
      description: 'Switchboard control plane: tenant registry, tenants API (IAM), silo tenant registrations',
    });
    controlPlane.addStackDependency(platform, 'the shared policies, WAF, backup role');
    for (const cell of cells.values()) {
      controlPlane.addStackDependency(cell, "the cell's API, ledger and tenant-access role (POOL_CELLS)");
    }
  }
  const tenants = new Map<string, TenantStack>();
  for (const tenant of silo) {
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
  return { platform, tenants, cells, controlPlane, configs, compliance };
}

/** The document of a tenant's file (already validated by the loader), as the control plane registers it. */
function tenantDocument(dir: string, id: string): Record<string, unknown> {
  for (const ext of ['.yaml', '.yml']) {
    const file = path.join(dir, `${id}${ext}`);
    if (fs.existsSync(file)) return parseYaml(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  }
  throw new Error(`No tenant file for ${id} in ${dir}`);
}
