import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { PLANS } from '../../../lambda/shared/tenant-vocabulary';
import {
  ALARM_SET_SIZE,
  CDK_BOOTSTRAP_ROLES,
  idleCost,
  platformUse,
  tenantStackResources,
  tenantUse,
} from '../../../lib/capacity/footprint';
import { assessCapacity, CapacityError, POOL_PLACES_ID } from '../../../lib/capacity/model';
import { QUOTA_IDS } from '../../../lib/capacity/quotas';
import { PlatformConfigError } from '../../../lib/config/platform-config';
import { resolveTenant, type TenantConfig } from '../../../lib/config/tenant-config';
import { buildSwitchboard, PLATFORM_STACK_NAME } from '../../../lib/switchboard';
import { repoPlatformConfig, type Synthesized, synthSwitchboard, tenantDir } from '../../support/synth';
import { resourcesOfType, type TemplateLike } from '../template-utils';
import { COUNTED, UNBOUNDED } from './resource-types';

const REVIEWER = 'escalation:\n  reviewerEmails: [ai-review@example.com]\n';

/** Tenants that exercise every term of the footprint: plans, ops contacts, reviewers, reserved concurrency. */
const VARIANTS: Record<string, string> = {
  // Basic tenants are pooled by default: these two keep a stack of their own.
  alpha: `id: alpha\nplan: basic\nisolation: silo\n${REVIEWER}`,
  beta: `id: beta\nplan: premium\n${REVIEWER}opsEmails: [a@example.com, b@example.com]\n`,
  gamma: `id: gamma\nplan: standard\nescalation:\n  reviewerEmails: [x@example.com, y@example.com, z@example.com]\nmonitoring: { dashboard: false }\n`,
  delta: `id: delta\nplan: basic\nisolation: silo\n${REVIEWER}monitoring: { alarms: full, dashboard: true }\nlambda: { reservedConcurrency: 3 }\n`,
  // Customizes its guardrail: one of its own (a guardrail and its version in its stack, one against the quota).
  epsilon: `id: epsilon\nplan: standard\n${REVIEWER}guardrail: { harmfulContentStrength: HIGH }\n`,
  // Has a webhook: its secret and the secret's policy.
  zeta: `id: zeta\nplan: standard\n${REVIEWER}  webhook: { origin: https://hooks.example.com }\n`,
};

const count = (t: TemplateLike, type: string) => resourcesOfType(t, type).length;

describe('capacity model', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthSwitchboard({ tenantsDir: tenantDir(VARIANTS), compliance: false });
  });
  const template = (name: string) => synth.template(name) as unknown as TemplateLike;

  it.each(Object.keys(VARIANTS))('counts what the tenant stack of %s really creates', (id) => {
    const config = synth.built.configs.find((c) => c.id === id)!;
    const t = template(`Switchboard-Tenant-${id}`);
    const use = tenantUse(config);
    expect({
      resources: Object.keys(t.Resources).length,
      roles: count(t, 'AWS::IAM::Role'),
      policies: count(t, 'AWS::IAM::ManagedPolicy'),
      rules: count(t, 'AWS::Events::Rule'),
      topics: count(t, 'AWS::SNS::Topic'),
      apis: count(t, 'AWS::ApiGateway::RestApi'),
      plans: count(t, 'AWS::ApiGateway::UsagePlan'),
      keys: count(t, 'AWS::ApiGateway::ApiKey'),
      certificates: count(t, 'AWS::ApiGateway::ClientCertificate'),
      kmsKeys: count(t, 'AWS::KMS::Key'),
      stateMachines: count(t, 'AWS::StepFunctions::StateMachine'),
      tables: count(t, 'AWS::DynamoDB::Table'),
      webAcls: count(t, 'AWS::WAFv2::WebACL'),
      throttle: resourcesOfType(t, 'AWS::ApiGateway::UsagePlan').map(
        ([, u]) => (u.Properties!.Throttle as { RateLimit: number }).RateLimit,
      ),
      selections: count(t, 'AWS::Backup::BackupSelection'),
      guardrails: count(t, 'AWS::Bedrock::Guardrail'),
      appClients: count(t, 'AWS::Cognito::UserPoolClient'),
      userPoolGroups: count(t, 'AWS::Cognito::UserPoolGroup'),
      reserved: resourcesOfType(t, 'AWS::Lambda::Function').reduce(
        (n, [, f]) => n + ((f.Properties?.ReservedConcurrentExecutions as number | undefined) ?? 0),
        0,
      ),
    }).toEqual({
      resources: tenantStackResources(config),
      roles: use[QUOTA_IDS.roles],
      policies: use[QUOTA_IDS.policies],
      rules: use[QUOTA_IDS.rules],
      topics: use[QUOTA_IDS.topics],
      apis: use[QUOTA_IDS.restApis],
      plans: use[QUOTA_IDS.usagePlans],
      keys: use[QUOTA_IDS.apiKeys],
      certificates: use[QUOTA_IDS.clientCertificates],
      kmsKeys: use[QUOTA_IDS.keys],
      stateMachines: use[QUOTA_IDS.stateMachines],
      tables: use[QUOTA_IDS.tables],
      webAcls: use[QUOTA_IDS.webAcls],
      throttle: [use[QUOTA_IDS.accountThrottle]],
      selections: use[QUOTA_IDS.backupSelections],
      guardrails: use[QUOTA_IDS.guardrails],
      appClients: use[QUOTA_IDS.appClients],
      userPoolGroups: use[QUOTA_IDS.userPoolGroups],
      reserved: use[QUOTA_IDS.concurrency],
    });
  });

  it.each(Object.keys(VARIANTS))(
    'bills the alarms, the dashboard and the secrets the tenant stack of %s really has',
    (id) => {
      const config = synth.built.configs.find((c) => c.id === id)!;
      const t = template(`Switchboard-Tenant-${id}`);
      const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm');
      const metrics = alarms.reduce((n, [, a]) => {
        const math = ((a.Properties?.Metrics as Array<{ MetricStat?: unknown }> | undefined) ?? []).filter(
          (m) => m.MetricStat,
        );
        return n + (a.Properties?.MetricName ? 1 : math.length);
      }, 0);
      const billed = Object.fromEntries(idleCost(config).map((i) => [i.item, i.quantity]));
      expect({
        alarms: alarms.length,
        metrics,
        composite: count(t, 'AWS::CloudWatch::CompositeAlarm'),
        dashboard: count(t, 'AWS::CloudWatch::Dashboard'),
        secrets: count(t, 'AWS::SecretsManager::Secret'),
      }).toEqual({
        alarms: ALARM_SET_SIZE[config.monitoring.alarms].alarms,
        metrics: billed['CloudWatch alarm metrics'],
        composite: billed['CloudWatch composite alarm'] ?? 0,
        dashboard: billed['CloudWatch dashboard'] ?? 0,
        secrets: billed['Secrets Manager secret (webhook URL and signing key)'] ?? 0,
      });
    },
  );

  it('counts what the platform stack really creates', () => {
    const t = template(PLATFORM_STACK_NAME);
    const use = platformUse(synth.built.platform.config);
    expect({
      // The roles of `cdk bootstrap` are in the account, not in the template.
      roles: count(t, 'AWS::IAM::Role') + CDK_BOOTSTRAP_ROLES,
      policies: count(t, 'AWS::IAM::ManagedPolicy'),
      topics: count(t, 'AWS::SNS::Topic'),
      kmsKeys: count(t, 'AWS::KMS::Key'),
      webAcls: count(t, 'AWS::WAFv2::WebACL'),
      selections: count(t, 'AWS::Backup::BackupSelection'),
      rules: count(t, 'AWS::Events::Rule'),
      guardrails: count(t, 'AWS::Bedrock::Guardrail'),
    }).toEqual({
      roles: use[QUOTA_IDS.roles],
      policies: use[QUOTA_IDS.policies],
      topics: use[QUOTA_IDS.topics],
      kmsKeys: use[QUOTA_IDS.keys],
      webAcls: use[QUOTA_IDS.webAcls],
      selections: use[QUOTA_IDS.backupSelections],
      rules: 0,
      guardrails: use[QUOTA_IDS.guardrails],
    });
  });

  it('counts the API Gateway logging role and its policy when the platform manages them', () => {
    const manage = synthSwitchboard({
      tenantsDir: tenantDir({ alpha: VARIANTS.alpha! }),
      compliance: false,
      platform: { apiGatewayAccountRole: 'manage' },
    });
    const t = manage.template(PLATFORM_STACK_NAME) as unknown as TemplateLike;
    const use = platformUse(manage.built.platform.config);
    expect(count(t, 'AWS::IAM::Role') + CDK_BOOTSTRAP_ROLES).toBe(use[QUOTA_IDS.roles]);
    expect(count(t, 'AWS::IAM::ManagedPolicy')).toBe(use[QUOTA_IDS.policies]);
  });

  it('has decided, for every resource type the stacks create, whether a regional quota the fleet could reach applies', () => {
    const types = new Set(
      [PLATFORM_STACK_NAME, ...Object.keys(VARIANTS).map((id) => `Switchboard-Tenant-${id}`)].flatMap((name) =>
        Object.values(template(name).Resources).map((r) => r.Type),
      ),
    );
    // A new resource type fails here until it is counted by the capacity model (COUNTED) or shown to have no
    // quota a fleet could reach (UNBOUNDED, with the reason).
    const unknown = [...types].filter((type) => !COUNTED.has(type) && !UNBOUNDED[type]);
    expect(unknown).toEqual([]);
  });

  it('puts the capacity section into the compliance report of a synth', () => {
    const full = synthSwitchboard();
    const report = JSON.parse(fs.readFileSync(path.join(full.outdir, 'compliance-report.json'), 'utf8')) as {
      capacity: { partial: boolean; quotas: Array<{ id: string; used: number }>; tenants: { total: number } };
    };
    expect(report.capacity.partial).toBe(false);
    expect(report.capacity.tenants.total).toBe(full.built.configs.length);
    // One REST API per silo tenant, the control plane's and the default pool cell's.
    const silo = full.built.configs.filter((c) => c.isolation === 'silo').length;
    expect(report.capacity.quotas.find((q) => q.id === QUOTA_IDS.restApis)?.used).toBe(silo + 2);
    expect(fs.readFileSync(path.join(full.outdir, 'compliance-report.md'), 'utf8')).toContain(
      'Regional APIs per Region',
    );
  });
});

describe('capacity limits at synth', () => {
  /** A folder of `n` generated silo tenants of `plan`. */
  function fleet(n: number, plan = 'standard'): string {
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const id = `tenant-${String(i).padStart(4, '0')}`;
      files[id] = `id: ${id}\nplan: ${plan}\n${REVIEWER}`;
    }
    return tenantDir(files);
  }

  it('fails a synth of 700 silo tenants before building any stack, one line per crossed quota, naming the REST API quota and who pushes it over', () => {
    const app = new App();
    let error: unknown;
    try {
      buildSwitchboard(app, { platform: repoPlatformConfig(), tenantsDir: fleet(700), compliance: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CapacityError);
    const message = (error as CapacityError).message;
    const lines = message.split('\n').slice(1);
    expect(lines.length).toBe((error as CapacityError).crossed.length);
    // 700 tenant APIs beside the control plane's and the default pool cell's.
    expect(message).toMatch(
      /API Gateway "Regional APIs per Region" \(apigateway\.regionalRestApis\): 702 needed, limit 600 \(AWS default\); pushed over by tenant-0598, tenant-0599, .* and 92 more/,
    );
    expect(message).toContain('iam.roles');
    expect(message).toContain('apigateway.usagePlans');
    // Nothing was constructed: the check runs on the files alone.
    expect(app.node.children).toHaveLength(0);
  });

  it('fails the single-tenant synth of the deploy path too: it counts every tenant file of the folder', () => {
    const app = new App();
    expect(() =>
      buildSwitchboard(app, {
        platform: repoPlatformConfig(),
        tenantsDir: fleet(700),
        only: 'tenant-0001',
        compliance: false,
      }),
    ).toThrow(/apigateway\.regionalRestApis\): 702 needed, limit 600/);
    expect(app.node.children).toHaveLength(0);
  });

  it("counts one guardrail per plan and one per tenant that customizes its own: 98 such tenants fail synth on Bedrock's 100 guardrails, naming the quota and the tenant that pushes it over", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 98; i++) {
      const id = `tenant-${String(i).padStart(4, '0')}`;
      files[id] =
        `id: ${id}\nplan: standard\n${REVIEWER}guardrail:\n  deniedTopics:\n    - { name: Topic ${i}, definition: Anything about subject ${i}. }\n`;
    }
    const app = new App();
    let error: unknown;
    try {
      buildSwitchboard(app, { platform: repoPlatformConfig(), tenantsDir: tenantDir(files), compliance: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).crossed.map((q) => q.id)).toEqual([QUOTA_IDS.guardrails]);
    expect((error as CapacityError).message).toContain(
      'Bedrock "Guardrails per account" (bedrock.guardrails): 101 needed, limit 100 (AWS default); pushed over by tenant-0097',
    );
    expect(app.node.children).toHaveLength(0);
  });

  it('lets the same number of tenants through while they share their plan guardrail (or state one the plan already is)', () => {
    const shared = Array.from({ length: 98 }, (_, i) => sample('standard', `s-${i}`));
    // A file that sets the plan's own strength changes nothing: it shares the plan's guardrail.
    const same = resolveTenant({
      id: 'same-as-plan',
      plan: 'standard',
      escalation: { reviewerEmails: ['r@example.com'] },
      guardrail: { harmfulContentStrength: 'MEDIUM' },
    }).tenant!;
    expect(same.guardrail.source).toBe('plan');
    const { report, crossed } = assessCapacity({
      tenants: [...shared, same],
      platform: repoPlatformConfig(),
      partial: false,
    });
    expect(crossed).toEqual([]);
    expect(report.quotas.find((q) => q.id === QUOTA_IDS.guardrails)).toMatchObject({ used: 3, limit: 100 });
  });

  it('lets a fleet through once cdk.json states the raised quotas', () => {
    const tenants = Array.from({ length: 250 }, (_, i) => sample('standard', `t-${i}`));
    const platform = repoPlatformConfig();
    expect(assessCapacity({ tenants, platform, partial: false }).crossed.map((q) => q.id)).toEqual([QUOTA_IDS.roles]);
    const raised = { ...platform, quotas: { [QUOTA_IDS.roles]: 5_000 } };
    const { crossed, report } = assessCapacity({ tenants, platform: raised, partial: false });
    expect(crossed).toEqual([]);
    expect(report.quotas.find((q) => q.id === QUOTA_IDS.roles)).toMatchObject({ limit: 5_000, limitFrom: 'cdk.json' });
  });

  it('refuses a quota id cdk.json cannot mean', () => {
    const platform = { ...repoPlatformConfig(), quotas: { 'apigateway.restApis': 900 } };
    expect(() => assessCapacity({ tenants: [], platform, partial: false })).toThrow(PlatformConfigError);
  });

  it('counts reserved concurrency against the account quota minus the 100 Lambda keeps unreserved', () => {
    const tenants = Array.from({ length: 37 }, (_, i) => sample('premium', `p-${i}`));
    const { crossed } = assessCapacity({ tenants, platform: repoPlatformConfig(), partial: false });
    // 37 × 25 = 925 > 1,000 − 100.
    expect(crossed.map((q) => [q.id, q.used, q.limit])).toEqual([[QUOTA_IDS.concurrency, 925, 900]]);
  });

  it('lets a new account (concurrency quota 50) deploy tenants that reserve nothing, and names the one that reserves', () => {
    const platform = { ...repoPlatformConfig(), quotas: { [QUOTA_IDS.concurrency]: 50 } };
    const unreserved = [sample('basic', 'b-1'), sample('standard', 's-1')];
    expect(assessCapacity({ tenants: unreserved, platform, partial: false }).crossed).toEqual([]);
    const { crossed } = assessCapacity({
      tenants: [...unreserved, sample('premium', 'p-1')],
      platform,
      partial: false,
    });
    expect(crossed.map((q) => [q.id, q.used, q.limit, q.pushedOverBy])).toEqual([
      [QUOTA_IDS.concurrency, 25, 0, ['p-1']],
    ]);
    expect(new CapacityError(crossed).message).toContain('pushed over by p-1');
  });

  it('says how many more tenants of each plan fit, and which quota stops them first', () => {
    const { report } = assessCapacity({ tenants: [], platform: repoPlatformConfig(), partial: false });
    const byPlan = Object.fromEntries(report.headroomByPlan.map((h) => [h.plan, h]));
    // Basic tenants are pooled: the places of the one default cell stop them. IAM's 1,000 roles (5 per silo
    // tenant; cdk bootstrap 5, the platform 1, the control plane 1, the cell 7) stop standard:
    // (1,000 − 14) / 5 = 197; premium reserves 25 of the 900 reservable executions.
    expect(byPlan.basic).toEqual({ plan: 'basic', moreTenants: 500, firstCeiling: POOL_PLACES_ID });
    expect(byPlan.standard).toEqual({ plan: 'standard', moreTenants: 197, firstCeiling: QUOTA_IDS.roles });
    expect(byPlan.premium).toEqual({ plan: 'premium', moreTenants: 36, firstCeiling: QUOTA_IDS.concurrency });
  });

  it('keeps an idle basic silo tenant at or under $3 a month, and says what a standard one costs', () => {
    const cost = (plan: (typeof PLANS)[number]) =>
      idleCost({ ...sample(plan), isolation: 'silo' }).reduce((s, i) => s + i.usd, 0);
    expect(cost('basic')).toBeLessThanOrEqual(3);
    expect(cost('standard')).toBeGreaterThan(7);
    expect(cost('standard')).toBeLessThan(8);
  });
});

function sample(plan: (typeof PLANS)[number], id = `sample-${plan}`): TenantConfig {
  const r = resolveTenant({ id, plan, escalation: { reviewerEmails: ['r@example.com'] } });
  return r.tenant!;
}
