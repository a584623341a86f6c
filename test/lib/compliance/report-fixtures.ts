/** Hand-built compliance and capacity reports for rendering tests (no synth). */
import { assessCapacity } from '../../../lib/capacity/model';
import type { CapacityReport, QuotaUse } from '../../../lib/capacity/types';
import {
  type AcknowledgedFinding,
  type ComplianceReport,
  type Finding,
  type PartialScope,
  reportTitle,
} from '../../../lib/compliance/report';
import { resolveTenant, type TenantConfig } from '../../../lib/config/tenant-config';
import { repoPlatformConfig } from '../../support/synth';

export const FIXTURE_PACKS = ['AwsSolutions', 'HIPAA.Security', 'Switchboard'] as const;

export const FIXTURE_DOCS: Record<string, string> = {
  AwsSolutions: 'https://github.com/cdklabs/cdk-nag/blob/main/RULES.md#awssolutions',
  'HIPAA.Security': 'https://github.com/cdklabs/cdk-nag/blob/main/RULES.md#hipaa-security',
  Switchboard: 'lib/compliance/switchboard-checks.ts',
};

export interface FixtureStack {
  readonly acknowledged?: readonly AcknowledgedFinding[];
  readonly findings?: readonly Finding[];
}

/** A report over `stacks` (in the given order); each finding goes to the pack its rule id starts with. */
export function reportOf(
  stacks: Record<string, FixtureStack>,
  options: { partial?: PartialScope; capacity?: CapacityReport } = {},
): ComplianceReport {
  const packOf = (ruleId: string) => ruleId.slice(0, ruleId.indexOf('-'));
  const built = Object.entries(stacks).map(([stack, s]) => ({
    stack,
    resources: 10,
    packs: FIXTURE_PACKS.map((pack) => ({
      pack,
      rulesChecked: [`${pack}-RuleA`, `${pack}-RuleB`],
      findings: (s.findings ?? []).filter((f) => packOf(f.ruleId) === pack),
      acknowledged: (s.acknowledged ?? []).filter((a) => packOf(a.ruleId) === pack),
    })),
  }));
  const count = (f: (s: FixtureStack) => number) => Object.values(stacks).reduce((n, s) => n + f(s), 0);
  return {
    title: reportTitle(options.partial ?? false),
    partial: options.partial ?? false,
    packs: [...FIXTURE_PACKS],
    packDocs: FIXTURE_DOCS,
    stacks: built,
    totals: {
      findings: count((s) => (s.findings ?? []).reduce((n, f) => n + f.resources.length, 0)),
      acknowledged: count((s) => (s.acknowledged ?? []).length),
    },
    ...(options.capacity ? { capacity: options.capacity } : {}),
  };
}

/** An acknowledgement made on the resource's L2 construct (`<path>/Resource` acknowledged on `<path>`). */
export function ack(
  ruleId: string,
  construct: string,
  reason: string,
  acknowledgedOn = construct,
): AcknowledgedFinding {
  return { ruleId, resource: `${construct}/Resource`, acknowledgedOn, reason };
}

/** The lines of one `## <title>` section of a Markdown report (up to the next `## `). */
export function mdSection(md: string, title: string): string[] {
  const lines = md.split('\n');
  const start = lines.indexOf(`## ${title}`);
  if (start < 0) throw new Error(`no section ${title}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** The body rows of the first Markdown table in `lines` after a header row starting with `header`. */
export function mdTableRows(lines: readonly string[], header: string): string[] {
  const at = lines.findIndex((l) => l.startsWith(`| ${header}`));
  if (at < 0) throw new Error(`no table "${header}"`);
  const rows: string[] = [];
  for (let i = at + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!);
  return rows;
}

/** A capacity report as the capacity model writes it: one quota crossed (Lambda concurrency), one not. */
export const CAPACITY: CapacityReport = {
  partial: false,
  tenants: { total: 3, byPlan: { standard: 2, premium: 1 } },
  quotas: [
    {
      id: 'apigateway.regionalRestApis',
      name: 'Regional APIs per account per Region',
      service: 'API Gateway',
      kind: 'deploy',
      used: 3,
      limit: 600,
      limitFrom: 'aws-default',
      headroom: 597,
      crossed: false,
      pushedOverBy: [],
      perTenant: { standard: 1, premium: 1 },
      source: { url: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html', readOn: '2025-06-02' },
      counting: 'One REST API per tenant.',
    },
    {
      id: 'lambda.concurrentExecutions',
      name: 'Concurrent executions',
      service: 'Lambda',
      kind: 'runtime',
      used: 1200,
      limit: 1000,
      limitFrom: 'cdk.json',
      headroom: -200,
      crossed: true,
      pushedOverBy: ['globex', 'initech'],
      perTenant: { standard: 300, premium: 600 },
      source: { url: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html', readOn: '2025-06-02' },
      counting: 'Reserved concurrency of every tenant function at its plan peak.',
    },
  ],
  headroomByPlan: [
    { plan: 'premium', moreTenants: 0, firstCeiling: 'lambda.concurrentExecutions' },
    { plan: 'standard', moreTenants: 597, firstCeiling: 'apigateway.regionalRestApis' },
    { plan: 'basic', moreTenants: null, firstCeiling: null },
  ],
  idleCost: {
    currency: 'USD',
    priceSources: [
      { url: 'https://aws.amazon.com/kms/pricing/', readOn: '2025-06-01' },
      { url: 'https://aws.amazon.com/cloudwatch/pricing/', readOn: '2025-06-01' },
    ],
    tenants: [
      {
        tenant: 'acme',
        plan: 'standard',
        isolation: 'silo',
        monthlyUsd: 1.4,
        items: [
          { item: 'KMS key', quantity: 1, unitUsd: 1, usd: 1 },
          { item: 'CloudWatch alarms', quantity: 4, unitUsd: 0.1, usd: 0.4 },
        ],
      },
      {
        tenant: 'globex',
        plan: 'premium',
        monthlyUsd: 2.0000004,
        items: [
          { item: 'KMS key', quantity: 2, unitUsd: 1, usd: 2 },
          { item: 'Lambda requests', quantity: 2, unitUsd: 0.0000002, usd: 0.0000004 },
        ],
      },
    ],
  },
};

/** A quota near its limit (90 % used) whose remedy is not Service Quotas: the pool cells' places. */
export const NEAR_QUOTA: QuotaUse = {
  id: 'pool.cellPlaces',
  name: 'Pooled tenants the pool cells hold (cells × tenants per cell)',
  service: 'Switchboard',
  kind: 'deploy',
  used: 450,
  limit: 500,
  limitFrom: 'cdk.json',
  headroom: 50,
  crossed: false,
  pushedOverBy: [],
  perTenant: { basic: 1 },
  source: { url: 'lib/capacity/pool.ts', readOn: '2026-12-02' },
  counting: 'One place per pooled tenant file.',
  remedy: 'add a cell to cdk.json context.switchboard.poolCells: "pool-2"',
};

function resolved(id: string, plan: 'basic' | 'standard'): TenantConfig {
  const r = resolveTenant({ id, plan, escalation: { reviewerEmails: ['r@example.com'] } });
  if (!r.tenant) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r.tenant;
}

/**
 * A capacity report the capacity model computes (with its `models` section) for one silo tenant (standard) and one
 * pooled tenant (basic) on the repository's platform configuration: tests read its figures, never copies of them.
 */
export function modelledCapacity(): CapacityReport {
  const tenants = [resolved('silo-one', 'standard'), resolved('pooled-one', 'basic')];
  return assessCapacity({ tenants, platform: repoPlatformConfig(), partial: false }).report;
}
