import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { modelResourceArns } from '../../../lambda/shared/catalog';
import { CRYPTO_SHRED_METADATA } from '../../../lambda/shared/silo-key';
import { assessCapacity } from '../../../lib/capacity/model';
import {
  type Acknowledgement,
  acknowledge,
  acknowledgeInRegulatedPacks,
  madeAcknowledgements,
} from '../../../lib/compliance/acknowledge';
import { money } from '../../../lib/compliance/capacity-section';
import { buildIsolationMatrix } from '../../../lib/compliance/isolation-matrix';
import { PACKS } from '../../../lib/compliance/packs';
import { CompliancePlugin, REPORT_FILES } from '../../../lib/compliance/plugin';
import { type ComplianceReport, type PackResult, runPack } from '../../../lib/compliance/report';
import { SwitchboardChecks } from '../../../lib/compliance/switchboard-checks';
import { asArray, type StatementJson, type TemplateLike } from '../../../lib/compliance/template-json';
import { PLAN_GUARDRAILS } from '../../../lib/config/guardrail-policy';
import { SWITCHBOARD_TAGS } from '../../../lib/config/tags';
import { SwitchboardGuardrail } from '../../../lib/constructs/guardrail/switchboard-guardrail';
import {
  cloudWatchAlarmsStatement,
  keyAdministrationStatement,
  logsServiceStatement,
  secretsManagerStatement,
  serviceIntegrationStatements,
  withLogDeliveryGuard,
} from '../../../lib/constructs/key-policies';
import { CONTROL_PLANE_STACK_NAME } from '../../../lib/stacks/control-plane-stack';
import { poolCellStackName } from '../../../lib/stacks/pool-cell-stack';
import { PLATFORM_STACK_NAME } from '../../../lib/switchboard';
import { REPO_ROOT, type Synthesized, synthSwitchboard } from '../../support/synth';
import { CAPACITY, mdSection, mdTableRows } from './report-fixtures';

const REASON = 'Test fixture: this finding is accepted here to check how acknowledgements are scoped.';
const TENANT_STACKS = ['Switchboard-Tenant-acme', 'Switchboard-Tenant-globex', 'Switchboard-Tenant-initech'];

let synth: Synthesized;
let report: ComplianceReport;
let made: Acknowledgement[];

beforeAll(() => {
  synth = synthSwitchboard();
  made = [...madeAcknowledgements()];
  report = JSON.parse(fs.readFileSync(path.join(synth.outdir, REPORT_FILES.json), 'utf8')) as ComplianceReport;
});

const packOf = (stack: string, pack: string): PackResult => {
  const s = report.stacks.find((x) => x.stack === stack);
  const p = s?.packs.find((x) => x.pack === pack);
  if (!p) throw new Error(`no ${pack} results for ${stack}`);
  return p;
};
const ruleIds = (r: PackResult) => r.findings.map((f) => f.ruleId);
const resourcesOf = (r: PackResult, ruleId: string) =>
  r.findings.filter((f) => f.ruleId === ruleId).flatMap((f) => f.resources);

/** A stack that breaks a rule of every pack. */
function nonCompliantStack(): Stack {
  const stack = new Stack(new App(), 'NonCompliant', { env: { region: 'us-east-1' } });
  new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_18_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => 1;'),
  });
  new s3.Bucket(stack, 'Bucket');
  new iam.Policy(stack, 'Inline', {
    roles: [fn.role!],
    statements: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })],
  });
  new kms.Key(stack, 'Key', { enableKeyRotation: true });
  // Retained with a fixed name: the next deploy after a delete fails with "already exists".
  new logs.LogGroup(stack, 'Logs', { logGroupName: 'fixed-name', removalPolicy: RemovalPolicy.RETAIN });
  return stack;
}

/** Silences what CDK prints for a failed validation while `fn` runs. */
function quietly<T>(fn: () => T): T {
  const spies = (['log', 'error', 'warn'] as const).map((m) => jest.spyOn(console, m).mockImplementation(() => {}));
  try {
    return fn();
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

describe('compliance report of the Switchboard app', () => {
  it('is written as compliance-report.md and compliance-report.json into the cloud assembly', () => {
    const md = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.markdown), 'utf8');
    expect(md).toMatch(/^# Switchboard compliance report/);
    for (const s of [PLATFORM_STACK_NAME, ...TENANT_STACKS]) expect(md).toContain(`## ${s}`);
    expect(md).toContain('Unacknowledged findings: **0**');
    expect(report).toEqual(JSON.parse(JSON.stringify(synth.built.compliance?.lastReport)));
  });

  it('shows per pack the count of rules checked and a link to the rules, never the rule lists (those are in the JSON)', () => {
    const md = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.markdown), 'utf8');
    const packRows = mdTableRows(mdSection(md, 'Packs'), 'pack');
    expect(packRows).toHaveLength(PACKS.length);
    PACKS.forEach((pack, i) => {
      const count = packOf(TENANT_STACKS[0]!, pack.name).rulesChecked.length;
      const docs = pack.docs.startsWith('https://') ? `<${pack.docs}>` : `[\`${pack.docs}\`](../${pack.docs})`;
      expect(packRows[i]).toBe(`| ${pack.name} | ${count} | ${docs} |`);
    });
    expect(md).not.toContain('Rules checked (');
    // No rule appears unless something was found or acknowledged under it.
    const named = new Set(
      report.stacks.flatMap((s) =>
        s.packs.flatMap((p) => [...p.findings, ...p.acknowledged].map((f) => f.ruleId.replace(/\[.*$/, ''))),
      ),
    );
    const quiet = [...new Set(report.stacks.flatMap((s) => s.packs.flatMap((p) => p.rulesChecked)))].filter(
      (r) => !named.has(r),
    );
    expect(quiet.length).toBeGreaterThan(300);
    expect(quiet.filter((r) => new RegExp(`${r.replace(/\./g, '\\.')}(?![A-Za-z0-9])`).test(md))).toEqual([]);
  });

  it('shows one acknowledgement row per reason in each stack, naming every rule and resource under it', () => {
    const md = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.markdown), 'utf8');
    for (const s of report.stacks) {
      const acks = s.packs.flatMap((p) => p.acknowledged);
      const reasons = [...new Set(acks.map((a) => a.reason))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const rows = mdTableRows(mdSection(md, s.stack), 'reason');
      expect(rows).toHaveLength(reasons.length);
      for (const a of acks) {
        const row = rows[reasons.indexOf(a.reason)]!;
        expect(row).toContain(`\`${a.ruleId}\``);
        expect(row.split(`\`${a.resource}\``)).toHaveLength(2); // each resource once
      }
    }
  });

  it('opens with the acknowledgements by reason across the fleet: rules, number of findings, stacks', () => {
    const md = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.markdown), 'utf8');
    const all = report.stacks.flatMap((s) => s.packs.flatMap((p) => p.acknowledged));
    const rows = mdTableRows(mdSection(md, 'Acknowledgements by reason'), 'reason');
    expect(rows).toHaveLength(new Set(all.map((a) => a.reason)).size);
    const counts = rows.map((r) => Number(r.split(' | ').at(-2)));
    expect(counts.reduce((n, c) => n + c, 0)).toBe(report.totals.acknowledged);
    expect(md.indexOf('## Acknowledgements by reason')).toBeLessThan(md.indexOf(`## ${PLATFORM_STACK_NAME}`));
    // Far shorter than one row per acknowledged finding.
    expect(rows.length).toBeLessThan(all.length / 4);
  });

  it('carries the capacity section of the capacity model, for the whole fleet', () => {
    const md = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.markdown), 'utf8');
    expect(report.capacity?.partial).toBe(false);
    // Every tenant file, silo and pooled.
    expect(report.capacity?.tenants.total).toBe(synth.built.configs.length);
    expect(synth.built.configs.filter((c) => c.isolation === 'pool').length).toBeGreaterThanOrEqual(2);
    expect(md).toContain('## Capacity');
  });

  it('compares the silo and pooled models of the fleet as the capacity model computes them', () => {
    const md = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.markdown), 'utf8');
    const { silo, pool } = assessCapacity({
      tenants: synth.built.configs,
      platform: synth.built.platform.config,
      partial: false,
    }).report.models!;
    const rows = mdTableRows(mdSection(md, 'Capacity'), 'figure | silo');
    const cells = (label: string) => {
      const row = rows.find((r) => r.startsWith(`| ${label}`));
      if (!row) throw new Error(`no row ${label}`);
      return row.slice(2, -2).split(' | ').slice(1);
    };
    const n = (x: number) => x.toLocaleString('en-US');
    expect(cells('tenants in the fleet')).toEqual([
      n(synth.built.configs.filter((c) => c.isolation === 'silo').length),
      n(synth.built.configs.filter((c) => c.isolation === 'pool').length),
    ]);
    // Pooled tenants per region at the defaults: the cells a region takes, times the tenants of a cell.
    expect(pool.fit.perRegion).toBe(pool.cellsFit.perRegion * pool.tenantsPerCell);
    const [siloRegion, poolRegion] = cells('tenants per region, AWS defaults');
    expect(poolRegion!.split('<br>')).toEqual([
      `${n(pool.fit.perRegion)} (${n(pool.cellsFit.perRegion)} cells of ${n(pool.tenantsPerCell)})`,
      expect.stringMatching(new RegExp(`^bound by .* \`${pool.fit.perRegionCeiling}\`$`)),
      expect.stringMatching(
        /^\[docs\.aws\.amazon\.com\]\(https:\/\/docs\.aws\.amazon\.com\/.*\), read \d{4}-\d\d-\d\d$/,
      ),
    ]);
    expect(siloRegion!.split('<br>')[0]).toBe(n(silo.fit.perRegion));
    // No resources, API key or usage plan of a pooled tenant's own; a silo tenant's stack.
    expect(cells('CloudFormation resources per tenant')).toEqual([n(silo.resourcesPerTenant), '0']);
    expect(cells('API Gateway API keys per tenant')).toEqual(['1', '0']);
    expect(cells('API Gateway usage plans per tenant')).toEqual(['1', '0']);
    const [siloIdle, poolIdle] = cells('idle cost per tenant (USD a month)');
    expect(siloIdle!.split('<br>')[0]).toBe(money(silo.idleMonthlyUsdPerTenant));
    expect(poolIdle!.split('<br>')[0]).toBe(money(pool.idleMonthlyUsdPerTenant));
    expect(pool.idleMonthlyUsdPerTenant).toBeLessThan(silo.idleMonthlyUsdPerTenant / 1000);
    // Every tenant of the idle-cost table says which model it is on.
    const idle = mdTableRows(mdSection(md, 'Capacity'), 'tenant | plan | isolation');
    expect(idle).toHaveLength(synth.built.configs.length);
    for (const c of synth.built.configs) {
      expect(idle.find((r) => r.startsWith(`| ${c.id} |`))).toContain(`| ${c.isolation} (`);
    }
  });

  it('is a full report: not marked partial in the JSON, the title or a warning', () => {
    const md = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.markdown), 'utf8');
    expect(report.partial).toBe(false);
    expect(report.title).toBe('Switchboard compliance report');
    expect(md.split('\n')[0]).toBe('# Switchboard compliance report');
    expect(md).not.toMatch(/partial/i);
  });

  it('is written as compliance-report.html too: one section per stack, each in the table of contents', () => {
    const html = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.html), 'utf8');
    expect(html).toContain('<h1>Switchboard compliance report</h1>');
    expect(html).not.toMatch(/<script|<link|\bsrc=/i);
    for (const s of report.stacks) {
      const anchor = s.stack.toLowerCase();
      expect(html).toContain(`<li><a href="#${anchor}">${s.stack}</a></li>`);
      expect(html).toContain(`<section id="${anchor}">\n<h2>${s.stack}</h2>`);
    }
    // Summary, packs, acknowledgements by reason, tenant isolation and capacity, then one per stack.
    expect(html.match(/<section id=/g)).toHaveLength(5 + report.stacks.length);
    // Unacknowledged findings: 0, with every acknowledged finding behind a reason.
    expect(html).toContain('Unacknowledged findings: <strong>0</strong>');
    expect(html).toContain(`Acknowledged findings: <strong>${report.totals.acknowledged}</strong>`);
  });

  it('lists the stacks sorted by name, each checked against the seven packs in order', () => {
    const names = report.stacks.map((s) => s.stack);
    expect(names).toEqual(
      [PLATFORM_STACK_NAME, CONTROL_PLANE_STACK_NAME, poolCellStackName('pool-1'), ...TENANT_STACKS].sort(),
    );
    expect(report.packs).toEqual(PACKS.map((p) => p.name));
    expect(report.packs).toHaveLength(7);
    for (const s of report.stacks) {
      expect(s.packs.map((p) => p.pack)).toEqual(report.packs);
      for (const p of s.packs) expect(p.rulesChecked.length).toBeGreaterThan(0);
      expect(s.resources).toBeGreaterThan(0);
    }
    expect(packOf(TENANT_STACKS[0]!, 'Switchboard').rulesChecked).toEqual([
      'Switchboard-BedrockScopedToModels',
      'Switchboard-GuardrailOnModelCalls',
      'Switchboard-KeyNotUsableByAccount',
      'Switchboard-LedgerInBackupSelection',
      'Switchboard-RetainTenantData',
      'Switchboard-ServicePrincipalsHaveSourceGuard',
    ]);
    expect(packOf(TENANT_STACKS[0]!, 'SwitchboardDeploy').rulesChecked).toEqual([
      'SwitchboardDeploy-AlarmTopicReachable',
      'SwitchboardDeploy-KeyPolicyFits',
      'SwitchboardDeploy-PerTenantResourceWithinQuota',
      'SwitchboardDeploy-RetainedWithoutFixedName',
      'SwitchboardDeploy-ServiceCanUseKey',
      'SwitchboardDeploy-WafAllowsLargestPrompt',
    ]);
  });

  it('has no unacknowledged findings', () => {
    expect(report.totals.findings).toBe(0);
    for (const s of report.stacks)
      for (const p of s.packs)
        expect({ s: s.stack, p: p.pack, f: p.findings }).toEqual({ s: s.stack, p: p.pack, f: [] });
  });

  it('gives every acknowledged finding a reason a reviewer can check, made on the resource or an ancestor', () => {
    const all = report.stacks.flatMap((s) => s.packs.flatMap((p) => p.acknowledged));
    expect(all.length).toBe(report.totals.acknowledged);
    expect(all.length).toBeGreaterThan(0);
    for (const a of all) {
      expect(a.reason.trim().length).toBeGreaterThanOrEqual(40);
      expect(a.resource === a.acknowledgedOn || a.resource.startsWith(`${a.acknowledgedOn}/`)).toBe(true);
    }
  });

  /**
   * Every acknowledgement of a tenant stack, rule by rule (counts are findings: rule × resource), from its file:
   * - AwsSolutions: APIG4 and COG4 on the 3 API-key routes (an API key is not an authorizer), COG4 on the 4
   *   IAM-authorized review routes, IAM5 for the {reviewId} path parameter in 2 reviewer-role method ARNs;
   * - HIPAA and NIST: LambdaInsideVPC on the 3 functions, no stage cache, no client certificate (Lambda proxy
   *   integrations never see one; the regional quota is 60), the ledger in the platform's tag-based backup
   *   selection (cdk-nag sees only same-stack selections), and LambdaConcurrency on every function that does
   *   not reserve (only the inference function of a plan that reserves does);
   * - PCI: LambdaInsideVPC ×3, cache, client certificate;
   * - Serverless: the housekeeping schedule without a DLQ, one per e-mail subscription (reviewers, tenant ops);
   * - with a webhook, its secret's rotation (AwsSolutions SMG4, HIPAA and NIST SecretsManagerRotationEnabled):
   *   the signing key is shared with the tenant's receiver and rotated on demand with an overlap.
   */
  function expectedTenantAcks(stack: string): Record<string, Record<string, number>> {
    const config = synth.built.configs.find((c) => `Switchboard-Tenant-${c.id}` === stack)!;
    const unreserved = config.lambda.reservedConcurrency > 0 ? 2 : 3;
    const subscriptions = config.escalation.reviewerEmails.length + config.opsEmails.length;
    const webhook = config.escalation.webhook ? 1 : 0;
    const rotation = (id: string) => (webhook ? { [id]: webhook } : {});
    const regulated = (pack: string, extra: Record<string, number>) => ({
      [`${pack}-LambdaInsideVPC`]: 3,
      [`${pack}-APIGWCacheEnabledAndEncrypted`]: 1,
      [`${pack}-APIGWSSLEnabled`]: 1,
      ...extra,
    });
    return {
      AwsSolutions: {
        // The three API-key routes and the console's two public file routes.
        'AwsSolutions-APIG4': 3 + 2,
        // Those five, and the four SigV4 review routes (the console's reviewer routes use the Cognito authorizer).
        'AwsSolutions-COG4': 3 + 2 + 4,
        'AwsSolutions-IAM5': 2,
        ...rotation('AwsSolutions-SMG4'),
      },
      'HIPAA.Security': regulated('HIPAA.Security', {
        'HIPAA.Security-DynamoDBInBackupPlan': 1,
        'HIPAA.Security-LambdaConcurrency': unreserved,
        ...rotation('HIPAA.Security-SecretsManagerRotationEnabled'),
      }),
      'NIST.800.53.R5': regulated('NIST.800.53.R5', {
        'NIST.800.53.R5-DynamoDBInBackupPlan': 1,
        'NIST.800.53.R5-LambdaConcurrency': unreserved,
        ...rotation('NIST.800.53.R5-SecretsManagerRotationEnabled'),
      }),
      'PCI.DSS.321': regulated('PCI.DSS.321', {}),
      Serverless: {
        'Serverless-EventBusDLQ': 1,
        ...(subscriptions ? { 'Serverless-SNSRedrivePolicy': subscriptions } : {}),
      },
      Switchboard: {},
    };
  }
  const countByRule = (p: PackResult) => {
    const out: Record<string, number> = {};
    for (const a of p.acknowledged) {
      const rule = a.ruleId.replace(/\[.*$/, '');
      out[rule] = (out[rule] ?? 0) + 1;
    }
    return out;
  };

  it.each(TENANT_STACKS)('acknowledges exactly the findings the design accepts in %s, rule by rule', (stack) => {
    for (const [pack, expected] of Object.entries(expectedTenantAcks(stack))) {
      expect({ pack, acks: countByRule(packOf(stack, pack)) }).toEqual({ pack, acks: expected });
    }
  });

  it('keeps the platform stack to at most 4 AwsSolutions acknowledgements and, elsewhere, only its ops e-mail subscriptions', () => {
    expect(packOf(PLATFORM_STACK_NAME, 'AwsSolutions').acknowledged.length).toBeLessThanOrEqual(4);
    for (const pack of PACKS.map((p) => p.name).filter((p) => p !== 'AwsSolutions')) {
      const acks = packOf(PLATFORM_STACK_NAME, pack).acknowledged;
      const expected = pack === 'Serverless' ? synth.built.platform.config.opsEmails.length : 0;
      expect({ pack, rules: acks.map((a) => a.ruleId) }).toEqual({
        pack,
        rules: Array(expected).fill('Serverless-SNSRedrivePolicy'),
      });
    }
  });

  it('uses every acknowledgement made with acknowledge() (a malformed or stale id would match nothing)', () => {
    expect(made.length).toBeGreaterThanOrEqual(4 + TENANT_STACKS.length * 12);
    const acknowledged = report.stacks.flatMap((s) => s.packs.flatMap((p) => p.acknowledged));
    const unused = made.filter(
      (m) => !acknowledged.some((a) => a.ruleId === m.ruleId && a.acknowledgedOn === m.constructPath),
    );
    expect(unused).toEqual([]);
  });

  it('honours only acknowledgements made through acknowledge(), with the same reason', () => {
    const acknowledged = report.stacks.flatMap((s) => s.packs.flatMap((p) => p.acknowledged));
    const stray = acknowledged.filter(
      (a) => !made.some((m) => m.ruleId === a.ruleId && m.constructPath === a.acknowledgedOn && m.reason === a.reason),
    );
    expect(stray).toEqual([]);
  });

  it('shows the acknowledgements in the templates (Metadata.cdk_nag.rules_to_suppress)', () => {
    const t = synth.template('Switchboard-Tenant-acme');
    const fn = Object.values(t.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
    const ids = (fn.Metadata as { cdk_nag: { rules_to_suppress: Array<{ id: string }> } }).cdk_nag.rules_to_suppress;
    expect(ids.map((i) => i.id).sort()).toEqual([
      'HIPAA.Security-LambdaConcurrency',
      'HIPAA.Security-LambdaInsideVPC',
      'NIST.800.53.R5-LambdaConcurrency',
      'NIST.800.53.R5-LambdaInsideVPC',
      'PCI.DSS.321-LambdaInsideVPC',
    ]);
  });
});

describe('tenant isolation matrix of the Switchboard app', () => {
  it('denies every cross-tenant cell and allows every own cell, silo and pool, only the listed exceptions excepted', () => {
    const m = report.isolation!;
    expect(m.findings).toEqual([]);
    const tenants = synth.built.configs
      .filter((c) => c.isolation === 'silo')
      .map((c) => c.id)
      .sort();
    expect(m.tenants.filter((t) => t.model === 'silo').map((t) => t.tenant)).toEqual(tenants);
    for (const s of m.summary) {
      expect(s.cross.total).toBeGreaterThan(0);
      expect(s.cross.denied).toBe(s.cross.total);
      expect(s.own.allowed).toBe(s.own.total);
    }
    expect(m.summary.map((s) => s.model).sort()).toEqual(['pool', 'silo']);
    const silo = m.summary.find((s) => s.model === 'silo')!;
    // Every tenant has items, key, state machine, topics and the review API: read and write of each but the
    // state machine and topics (write only).
    expect(silo.own.total).toBe(tenants.length * 8);
    const used = Object.fromEntries(m.exceptions.map((e) => [e.id, e.principals]));
    expect(used['aws-backup']).toEqual([expect.stringMatching(/^<Switchboard-Platform\/BackupRole/)]);
    // Per pool cell, its three functions that take tenant sessions (inference, review steps, review API); none while
    // the app has no cell.
    const cells = new Set(m.tenants.filter((t) => t.model === 'pool').map((t) => t.stack));
    expect(used['pooled-function']).toHaveLength(cells.size * 3);
    expect(used['pooled-function']?.map((p) => p.replace(/[0-9A-F]{8}>$/, '>')).sort()).toEqual([
      '<Switchboard-Pool-1/InferenceRole>',
      '<Switchboard-Pool-1/ReviewApiRole>',
      '<Switchboard-Pool-1/ReviewStepsRole>',
    ]);
    expect(cells.size).toBe(1);
    // The control plane: a keys-only Scan of each cell's ledger and tenant-tagged sessions of its access role.
    expect(used['control-plane']).toEqual([expect.stringMatching(/^<Switchboard-ControlPlane\//)]);
    expect(m.exceptions.reduce((n, e) => n + e.cells, 0)).toBe(m.summary.reduce((n, s) => n + s.cross.excepted, 0));
  });

  it("catches one widened statement in the real templates: acme's inference role on every table", () => {
    const stacks = synth.assembly.stacks.map((st) => ({
      stackName: st.stackName,
      template: structuredClone(st.template) as TemplateLike,
      region: 'us-east-1',
    }));
    const acme = stacks.find((st) => st.stackName === 'Switchboard-Tenant-acme')!.template;
    const [policyId, policy] = Object.entries(acme.Resources).find(
      ([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && id.startsWith('InferenceRolePolicy'),
    )!;
    const statements = (policy.Properties!.PolicyDocument as { Statement: StatementJson[] }).Statement;
    const reads = statements.find((st) => asArray(st.Action).includes('dynamodb:GetItem'))!;
    (reads as { Resource: unknown }).Resource = 'arn:aws:dynamodb:us-east-1:*:table/*';
    const m = buildIsolationMatrix(stacks);
    expect(m.findings.map((f) => [f.principal.replace(/[0-9A-F]{8}>$/, '>'), f.tenant, f.kind])).toEqual([
      ['<Switchboard-Tenant-acme/InferenceRole>', 'globex', 'items'],
      ['<Switchboard-Tenant-acme/InferenceRole>', 'initech', 'items'],
      // The pool cell's tenants (the matrix's probe tenants of the cell) are in a table of that wildcard too.
      ['<Switchboard-Tenant-acme/InferenceRole>', 'probe-a', 'items'],
      ['<Switchboard-Tenant-acme/InferenceRole>', 'probe-a-b', 'items'],
    ]);
    expect(m.findings[0]!.statements).toEqual([expect.stringContaining(`Switchboard-Tenant-acme/${policyId}#`)]);
    expect(m.findings[0]!.actions).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it("checks a pooled tenant's review routes per tenant, and catches the cell API's resource policy allowing every tenant's", () => {
    const m = report.isolation!;
    const pool = m.summary.find((s) => s.model === 'pool')!;
    // Each of the two pooled (probe) tenants: 4 own cells of its items and key, and 2 of its review routes (read:
    // list, show, export; write: decide), which its own reviewer session may call (and, above, no other principal).
    expect(pool.tenants).toBe(2);
    expect(pool.own).toEqual({ allowed: 2 * (4 + 2), total: 2 * (4 + 2) });
    // The same app with the resource policy's allow widened to every tenant's routes (what it was at first).
    const stacks = synth.assembly.stacks.map((st) => ({
      stackName: st.stackName,
      template: structuredClone(st.template) as TemplateLike,
      region: 'us-east-1',
    }));
    const cell = stacks.find((st) => st.stackName === 'Switchboard-Pool-1')!.template;
    const api = Object.values(cell.Resources).find((r) => r.Type === 'AWS::ApiGateway::RestApi')!;
    const policy = api.Properties!.Policy as { Statement: StatementJson[] };
    const allow = policy.Statement.find((st) => st.Sid === 'ReviewRoutesForTheReviewerRole')!;
    (allow as { Resource: unknown }).Resource = asArray(allow.Resource).map((r) =>
      String(r).replace(/\$\{aws:PrincipalTag\/[^}]+\}/, '*'),
    );
    const widened = buildIsolationMatrix(stacks);
    const found = widened.findings.map((f) => [f.principal.replace(/[0-9A-F]{8}>/, '>'), f.tenant, f.kind]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['<Switchboard-Pool-1/ApiReviewerRole> session switchboard:tenant=probe-a', 'probe-a-b', 'api'],
        ['<Switchboard-Pool-1/ApiReviewerRole> session switchboard:tenant=probe-a-b', 'probe-a', 'api'],
      ]),
    );
    expect(widened.findings.every((f) => f.kind === 'api')).toBe(true);
  });

  it('shows the matrix in the Markdown report: counts per isolation model, the exception and its reason', () => {
    const md = fs.readFileSync(path.join(synth.outdir, REPORT_FILES.markdown), 'utf8');
    const section = mdSection(md, 'Tenant isolation').join('\n');
    const silo = report.isolation!.summary.find((s) => s.model === 'silo')!;
    expect(section).toContain(
      `| silo | ${silo.tenants} | ${silo.cross.total} / ${silo.cross.total} (100%) | ${silo.cross.excepted} | ${silo.own.total} / ${silo.own.total} (100%) |`,
    );
    expect(section).toContain('AWS Backup');
    expect(section).toContain('Failing cells: **0**.');
    expect(section).not.toContain('### Failing cells');
  });
});

describe('compliance report of a single-tenant synth (cdk synth -c tenant=acme)', () => {
  let partial: Synthesized;
  beforeAll(() => {
    partial = synthSwitchboard({ only: 'acme' });
  });
  const read = (file: string) => fs.readFileSync(path.join(partial.outdir, file), 'utf8');

  it('is marked partial in the JSON, naming the tenant', () => {
    const json = JSON.parse(read(REPORT_FILES.json)) as ComplianceReport;
    expect(json.partial).toEqual({ only: 'acme' });
    expect(json.title).toBe('Switchboard compliance report (partial: tenant acme and the platform stack only)');
    expect(json.stacks.map((s) => s.stack)).toEqual([PLATFORM_STACK_NAME, 'Switchboard-Tenant-acme']);
  });

  it('says so in the Markdown title and a warning line that the fleet report needs a full cdk synth', () => {
    const lines = read(REPORT_FILES.markdown).split('\n');
    expect(lines[0]).toBe('# Switchboard compliance report (partial: tenant acme and the platform stack only)');
    const warning = lines.find((l) => l.startsWith('> **Warning: partial report.**'));
    expect(warning).toContain('`-c tenant=acme`');
    expect(warning).toContain('The fleet report needs a full `cdk synth`.');
    // Before the figures a reader would otherwise take for the fleet's.
    expect(lines.indexOf(warning!)).toBeLessThan(lines.findIndex((l) => l.startsWith('Packs:')));
  });

  it('says so in the HTML title, heading and warning too', () => {
    const html = read(REPORT_FILES.html);
    const title = 'Switchboard compliance report (partial: tenant acme and the platform stack only)';
    expect(html).toContain(`<title>${title}</title>`);
    expect(html).toContain(`<h1>${title}</h1>\n<p class="warning" role="note"><strong>Warning: partial report.`);
  });
});

describe('compliance packs', () => {
  let fixture: Stack;
  beforeAll(() => {
    fixture = nonCompliantStack();
  });

  it.each(PACKS.map((p) => [p.name, p] as const))('%s catches a deliberately non-compliant stack', (_name, pack) => {
    const result = runPack(pack.create(), fixture);
    expect(result.findings.length).toBeGreaterThan(0);
    expect(result.acknowledged).toEqual([]);
    for (const f of result.findings) {
      expect(f.ruleId.startsWith(`${result.pack}-`)).toBe(true);
      expect(f.resources.every((r) => r.startsWith('NonCompliant/'))).toBe(true);
    }
  });

  // The report links these instead of listing every rule checked; a pack added without its link fails here.
  const CDK_NAG_RULES_ANCHORS: Record<string, string> = {
    AwsSolutions: 'awssolutions',
    'HIPAA.Security': 'hipaa-security',
    'NIST.800.53.R5': 'nist-800-53-rev-5',
    'PCI.DSS.321': 'pci-dss-321',
    Serverless: 'serverless',
  };
  it.each(PACKS.map((p) => [p.name, p] as const))('%s links the documentation of its rules', (name, pack) => {
    if (name.startsWith('Switchboard')) {
      // Switchboard's own packs: the source file in this repository that defines the pack.
      expect(pack.docs).toMatch(/^lib\/compliance\/[a-z0-9-]+\.ts$/);
      expect(fs.readFileSync(path.join(REPO_ROOT, pack.docs), 'utf8')).toMatch(/extends NagPack/);
    } else {
      expect(CDK_NAG_RULES_ANCHORS[name]).toBeDefined();
      expect(pack.docs).toBe(`https://github.com/cdklabs/cdk-nag/blob/main/RULES.md#${CDK_NAG_RULES_ANCHORS[name]}`);
    }
  });

  it('names the rules a reviewer expects on the fixture', () => {
    const run = (name: string) => ruleIds(runPack(PACKS.find((p) => p.name === name)!.create(), fixture));
    expect(run('AwsSolutions')).toEqual(
      expect.arrayContaining(['AwsSolutions-DDB3', 'AwsSolutions-L1', 'AwsSolutions-S1']),
    );
    expect(run('HIPAA.Security')).toEqual(
      expect.arrayContaining(['HIPAA.Security-DynamoDBPITREnabled', 'HIPAA.Security-IAMNoInlinePolicy']),
    );
    expect(run('Serverless')).toEqual(expect.arrayContaining(['Serverless-LambdaTracing']));
    expect(run('Switchboard')).toEqual(['Switchboard-KeyNotUsableByAccount', 'Switchboard-LedgerInBackupSelection']);
    expect(run('SwitchboardDeploy')).toEqual(['SwitchboardDeploy-RetainedWithoutFixedName']);
  });
});

describe('acknowledgement scoping', () => {
  it('silences a rule on the acknowledged construct only, not on a sibling nor in another stack', () => {
    const app = new App();
    const a = new Stack(app, 'A');
    const b = new Stack(app, 'B');
    const table = (scope: Construct, id: string) =>
      new dynamodb.Table(scope, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    acknowledge(table(a, 'Acknowledged'), 'AwsSolutions-DDB3', REASON);
    table(a, 'Sibling');
    table(b, 'Elsewhere');
    const group = new Construct(a, 'Group');
    table(group, 'Child');
    acknowledge(group, 'AwsSolutions-DDB3', REASON);

    const inA = runPack(PACKS[0]!.create(), a);
    expect(resourcesOf(inA, 'AwsSolutions-DDB3')).toEqual(['A/Sibling/Resource']);
    expect(inA.acknowledged).toEqual([
      {
        ruleId: 'AwsSolutions-DDB3',
        resource: 'A/Acknowledged/Resource',
        acknowledgedOn: 'A/Acknowledged',
        reason: REASON,
      },
      { ruleId: 'AwsSolutions-DDB3', resource: 'A/Group/Child/Resource', acknowledgedOn: 'A/Group', reason: REASON },
    ]);
    const inB = runPack(PACKS[0]!.create(), b);
    expect(resourcesOf(inB, 'AwsSolutions-DDB3')).toEqual(['B/Elsewhere/Resource']);
    expect(inB.acknowledged).toEqual([]);
  });

  it('silences only the granular finding that was acknowledged', () => {
    const stack = new Stack(new App(), 'Granular');
    const policy = new iam.ManagedPolicy(stack, 'Policy', {
      statements: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })],
    });
    acknowledge(policy, 'AwsSolutions-IAM5[Resource::*]', REASON);
    const result = runPack(PACKS[0]!.create(), stack);
    expect(ruleIds(result)).toContain('AwsSolutions-IAM5[Action::s3:*]');
    expect(ruleIds(result)).not.toContain('AwsSolutions-IAM5[Resource::*]');
    expect(result.acknowledged.map((x) => x.ruleId)).toEqual(['AwsSolutions-IAM5[Resource::*]']);
  });

  it('acknowledgeInRegulatedPacks silences the rule in HIPAA, NIST and PCI alike', () => {
    const stack = new Stack(new App(), 'Regulated');
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    });
    acknowledgeInRegulatedPacks(fn, 'LambdaInsideVPC', REASON);
    for (const name of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
      const result = runPack(PACKS.find((p) => p.name === name)!.create(), stack);
      expect(ruleIds(result)).not.toContain(`${name}-LambdaInsideVPC`);
      expect(result.acknowledged.map((x) => x.ruleId)).toEqual([`${name}-LambdaInsideVPC`]);
    }
  });
});

const GUARDRAIL_ARN = 'arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123def456';
const GUARDRAIL_V1 = `${GUARDRAIL_ARN}:1`;

describe('Switchboard pack', () => {
  const run = (build: (stack: Stack) => void): PackResult => {
    const stack = new Stack(new App(), 'Fixture', { env: { region: 'us-east-1' } });
    build(stack);
    return runPack(new SwitchboardChecks(), stack);
  };

  it('flags a KMS key whose (default) policy lets the account root use it: Switchboard-KeyNotUsableByAccount', () => {
    const result = run((s) => new kms.Key(s, 'Key'));
    expect(resourcesOf(result, 'Switchboard-KeyNotUsableByAccount')).toEqual(['Fixture/Key/Resource']);
  });

  it('accepts a key administered by named principals and used by the account only through DynamoDB', () => {
    const result = run(
      (s) =>
        new kms.Key(s, 'Key', {
          enableKeyRotation: true,
          rotationPeriod: Duration.days(365),
          policy: new iam.PolicyDocument({
            statements: [keyAdministrationStatement(s, ['KeyAdmins']), ...serviceIntegrationStatements(s, 'dynamodb')],
          }),
        }),
    );
    expect(result.findings).toEqual([]);
  });

  it('accepts key use through Secrets Manager by principals named in aws:PrincipalArn, and flags it for the whole account or a wildcard', () => {
    const keyWith = (extra: (s: Stack) => iam.PolicyStatement) =>
      run(
        (s) =>
          new kms.Key(s, 'Key', {
            enableKeyRotation: true,
            policy: new iam.PolicyDocument({ statements: [keyAdministrationStatement(s, []), extra(s)] }),
          }),
      );
    const pattern = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:switchboard/acme/webhook-*';
    const named = keyWith((s) =>
      secretsManagerStatement(s, 'Named', ['arn:aws:iam::111122223333:role/WebhookOperators'], pattern),
    );
    expect(named.findings).toEqual([]);
    const wildcard = keyWith((s) => secretsManagerStatement(s, 'Wild', ['arn:aws:iam::111122223333:role/*'], pattern));
    expect(resourcesOf(wildcard, 'Switchboard-KeyNotUsableByAccount')).toEqual(['Fixture/Key/Resource']);
    const account = keyWith(
      (s) =>
        new iam.PolicyStatement({
          principals: [new iam.AccountRootPrincipal()],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${s.region}.amazonaws.com` } },
        }),
    );
    expect(resourcesOf(account, 'Switchboard-KeyNotUsableByAccount')).toEqual(['Fixture/Key/Resource']);
  });

  it('flags a key whose policy lets any principal of the account rewrite it (kms:Put*)', () => {
    const result = run(
      (s) =>
        new kms.Key(s, 'Key', {
          enableKeyRotation: true,
          policy: new iam.PolicyDocument({
            statements: [
              new iam.PolicyStatement({
                principals: [new iam.AccountRootPrincipal()],
                actions: ['kms:Describe*', 'kms:Put*'],
                resources: ['*'],
              }),
            ],
          }),
        }),
    );
    expect(resourcesOf(result, 'Switchboard-KeyNotUsableByAccount')).toEqual(['Fixture/Key/Resource']);
  });

  it.each([
    [
      'selected by a tag condition it carries',
      { StringEquals: [{ ConditionKey: 'aws:ResourceTag/b', ConditionValue: 'ledger' }] },
      {},
      true,
    ],
    [
      'not carrying the tag a condition asks for',
      { StringEquals: [{ ConditionKey: 'aws:ResourceTag/b', ConditionValue: 'other' }] },
      {},
      false,
    ],
    [
      'excluded by StringNotEquals',
      { StringNotEquals: [{ ConditionKey: 'aws:ResourceTag/b', ConditionValue: 'ledger' }] },
      {},
      false,
    ],
    [
      'matched by StringLike',
      { StringLike: [{ ConditionKey: 'aws:ResourceTag/b', ConditionValue: 'led*' }] },
      {},
      true,
    ],
    [
      'excluded by NotResources',
      { StringEquals: [{ ConditionKey: 'aws:ResourceTag/b', ConditionValue: 'ledger' }] },
      { notResources: ['arn:aws:dynamodb:us-east-1:111122223333:table/*'] },
      false,
    ],
    ['in a selection without any tag condition (every table of the account)', {}, {}, false],
  ])('Switchboard-LedgerInBackupSelection: a retained table %s', (_name, conditions, extra, selected) => {
    const result = run((s) => {
      const table = new dynamodb.Table(s, 'Table', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      (table.node.defaultChild as dynamodb.CfnTable).tags.setTag('b', 'ledger');
      new backup.CfnBackupSelection(s, 'Selection', {
        backupPlanId: 'plan',
        backupSelection: {
          selectionName: 'ledgers',
          iamRoleArn: 'arn:aws:iam::111122223333:role/backup',
          resources: ['arn:aws:dynamodb:us-east-1:111122223333:table/*'],
          conditions,
          ...extra,
        },
      });
    });
    expect(resourcesOf(result, 'Switchboard-LedgerInBackupSelection')).toEqual(
      selected ? [] : ['Fixture/Table/Resource'],
    );
  });

  describe('Switchboard-ServicePrincipalsHaveSourceGuard', () => {
    const RULE = 'Switchboard-ServicePrincipalsHaveSourceGuard';
    const keyWith = (s: Stack, statement: iam.PolicyStatement) =>
      new kms.Key(s, 'Key', {
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
        policy: new iam.PolicyDocument({ statements: [keyAdministrationStatement(s), statement] }),
      });
    const alarmsUse = (conditions?: Record<string, Record<string, unknown>>) =>
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions,
      });

    it('flags a key policy letting cloudwatch.amazonaws.com use the key for anyone', () => {
      const result = run((s) => keyWith(s, alarmsUse()));
      expect(resourcesOf(result, RULE)).toEqual(['Fixture/Key/Resource']);
    });

    it('accepts it for alarms of this account (aws:SourceAccount)', () => {
      const result = run((s) => keyWith(s, cloudWatchAlarmsStatement(s)));
      expect(resourcesOf(result, RULE)).toEqual([]);
    });

    it('accepts a service reading key metadata only, and CloudWatch Logs limited by its encryption context', () => {
      const result = run((s) => {
        const key = keyWith(s, logsServiceStatement(s));
        key.addToResourcePolicy(
          new iam.PolicyStatement({
            principals: [new iam.ServicePrincipal('dynamodb.amazonaws.com')],
            actions: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
            resources: ['*'],
          }),
        );
      });
      expect(resourcesOf(result, RULE)).toEqual([]);
    });

    const loggingStateMachine = (s: Stack, key: kms.IKey) =>
      new sfn.StateMachine(s, 'Machine', {
        definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(s, 'Noop')),
        logs: { destination: new logs.LogGroup(s, 'MachineLogs'), level: sfn.LogLevel.ALL },
        encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(key),
      });

    it("flags the log-delivery statement CDK's StateMachine adds to the key of its encrypted logs", () => {
      const result = run((s) => loggingStateMachine(s, keyWith(s, cloudWatchAlarmsStatement(s))));
      expect(resourcesOf(result, RULE)).toContain('Fixture/Key/Resource');
    });

    it('accepts that statement once the key is handed over through withLogDeliveryGuard', () => {
      const result = run((s) => loggingStateMachine(s, withLogDeliveryGuard(keyWith(s, cloudWatchAlarmsStatement(s)))));
      expect(resourcesOf(result, RULE).filter((r) => r.startsWith('Fixture/Key'))).toEqual([]);
    });

    it.each([
      ['states.amazonaws.com without a condition', 'states.amazonaws.com', undefined, true],
      [
        'states.amazonaws.com for this account',
        'states.amazonaws.com',
        { StringEquals: { 'aws:SourceAccount': '111122223333' } },
        false,
      ],
      ['backup.amazonaws.com without a condition', 'backup.amazonaws.com', undefined, true],
      [
        'apigateway.amazonaws.com with StringEqualsIfExists aws:SourceAccount',
        'apigateway.amazonaws.com',
        { StringEqualsIfExists: { 'aws:SourceAccount': '111122223333' } },
        false,
      ],
      ['lambda.amazonaws.com (Lambda documents no source keys)', 'lambda.amazonaws.com', undefined, false],
    ])('on a role trusting %s: flagged %s', (_name, service, conditions, flagged) => {
      const result = run(
        (s) => new iam.Role(s, 'Role', { assumedBy: new iam.ServicePrincipal(service, { conditions }) }),
      );
      expect(resourcesOf(result, RULE)).toEqual(flagged ? ['Fixture/Role/Resource'] : []);
    });
  });

  it('flags a table that is destroyed with its stack: Switchboard-RetainTenantData', () => {
    const result = run(
      (s) =>
        new dynamodb.Table(s, 'Table', {
          partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
          removalPolicy: RemovalPolicy.DESTROY,
        }),
    );
    expect(resourcesOf(result, 'Switchboard-RetainTenantData')).toEqual(['Fixture/Table/Resource']);
  });

  it('flags a KMS key that is destroyed with its stack: Switchboard-RetainTenantData, and accepts a retained one', () => {
    const keyPolicy = (s: Stack) =>
      new iam.PolicyDocument({
        statements: [keyAdministrationStatement(s, ['KeyAdmins']), ...serviceIntegrationStatements(s, 'dynamodb')],
      });
    const destroyed = run(
      (s) =>
        new kms.Key(s, 'Key', {
          enableKeyRotation: true,
          policy: keyPolicy(s),
          removalPolicy: RemovalPolicy.DESTROY,
        }),
    );
    expect(ruleIds(destroyed)).toEqual(['Switchboard-RetainTenantData']);
    expect(resourcesOf(destroyed, 'Switchboard-RetainTenantData')).toEqual(['Fixture/Key/Resource']);
    const retained = run(
      (s) =>
        new kms.Key(s, 'Key', {
          enableKeyRotation: true,
          policy: keyPolicy(s),
          removalPolicy: RemovalPolicy.RETAIN,
        }),
    );
    expect(retained.findings).toEqual([]);
  });

  it('accepts a destroyed key only when it is marked for crypto-shredding with a pending window in KMS bounds', () => {
    const shredded = (days: number, marked: number) => (s: Stack) => {
      const key = new kms.Key(s, 'Key', {
        enableKeyRotation: true,
        policy: new iam.PolicyDocument({
          statements: [keyAdministrationStatement(s, ['KeyAdmins']), ...serviceIntegrationStatements(s, 'dynamodb')],
        }),
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(days),
      });
      (key.node.defaultChild as kms.CfnKey).addMetadata(CRYPTO_SHRED_METADATA, { pendingWindowDays: marked });
    };
    expect(run(shredded(30, 30)).findings).toEqual([]);
    expect(run(shredded(7, 7)).findings).toEqual([]);
    // The marker must say the window the key has (a changed window is a changed decision).
    expect(ruleIds(run(shredded(30, 14)))).toEqual(['Switchboard-RetainTenantData']);
  });

  it('flags a policy allowing Action "*" on "*": Switchboard-BedrockScopedToModels and Switchboard-GuardrailOnModelCalls', () => {
    const result = run(
      (s) =>
        new iam.ManagedPolicy(s, 'Policy', {
          statements: [new iam.PolicyStatement({ actions: ['*'], resources: ['*'] })],
        }),
    );
    expect(ruleIds(result)).toEqual(['Switchboard-BedrockScopedToModels', 'Switchboard-GuardrailOnModelCalls']);
    expect(resourcesOf(result, 'Switchboard-BedrockScopedToModels')).toEqual(['Fixture/Policy/Resource']);
    expect(resourcesOf(result, 'Switchboard-GuardrailOnModelCalls')).toEqual(['Fixture/Policy/Resource']);
  });

  it('flags a key policy giving the account Action "*" (not kms:*): Switchboard-KeyNotUsableByAccount', () => {
    const result = run(
      (s) =>
        new kms.Key(s, 'Key', {
          enableKeyRotation: true,
          policy: new iam.PolicyDocument({
            statements: [
              keyAdministrationStatement(s, ['KeyAdmins']),
              new iam.PolicyStatement({
                actions: ['*'],
                principals: [new iam.AccountRootPrincipal()],
                resources: ['*'],
              }),
            ],
          }),
        }),
    );
    expect(ruleIds(result)).toEqual(['Switchboard-KeyNotUsableByAccount']);
    expect(resourcesOf(result, 'Switchboard-KeyNotUsableByAccount')).toEqual(['Fixture/Key/Resource']);
  });

  it('flags a managed policy allowing bedrock:InvokeModel on "*": Switchboard-BedrockScopedToModels', () => {
    const result = run(
      (s) =>
        new iam.ManagedPolicy(s, 'Policy', {
          statements: [new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: ['*'] })],
        }),
    );
    expect(resourcesOf(result, 'Switchboard-BedrockScopedToModels')).toEqual(['Fixture/Policy/Resource']);
  });

  it('flags a model wildcard (foundation-model/*) too', () => {
    const result = run(
      (s) =>
        new iam.ManagedPolicy(s, 'Policy', {
          statements: [
            new iam.PolicyStatement({
              actions: ['bedrock:InvokeModel'],
              resources: [`arn:${s.partition}:bedrock:us-east-1::foundation-model/*`],
              conditions: { StringEquals: { 'bedrock:GuardrailIdentifier': GUARDRAIL_V1 } },
            }),
          ],
        }),
    );
    expect(ruleIds(result)).toEqual(['Switchboard-BedrockScopedToModels']);
  });

  it('accepts bedrock:InvokeModel on the model ARNs of the catalog, with the guardrail condition', () => {
    const result = run((s) => invokePolicy(s, { StringEquals: { 'bedrock:GuardrailIdentifier': GUARDRAIL_V1 } }));
    expect(result.findings).toEqual([]);
  });

  describe('Switchboard-GuardrailOnModelCalls', () => {
    it('flags a policy that lets the catalog models be called without a guardrail (the fixture it catches)', () => {
      const result = run((s) => invokePolicy(s, undefined));
      expect(ruleIds(result)).toEqual(['Switchboard-GuardrailOnModelCalls']);
      expect(resourcesOf(result, 'Switchboard-GuardrailOnModelCalls')).toEqual(['Fixture/Policy/Resource']);
    });

    it.each([
      [
        '...IfExists (passes a call that names no guardrail)',
        { StringEqualsIfExists: { 'bedrock:GuardrailIdentifier': GUARDRAIL_V1 } },
      ],
      ['StringLike with a wildcard', { StringLike: { 'bedrock:GuardrailIdentifier': `${GUARDRAIL_ARN}:*` } }],
      ['StringEquals on any guardrail', { StringEquals: { 'bedrock:GuardrailIdentifier': '*' } }],
      ['the DRAFT version', { StringEquals: { 'bedrock:GuardrailIdentifier': `${GUARDRAIL_ARN}:DRAFT` } }],
      ['a condition on another key', { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } }],
    ])('flags a guardrail condition that does not bind: %s', (_name, conditions) => {
      expect(ruleIds(run((s) => invokePolicy(s, conditions)))).toContain('Switchboard-GuardrailOnModelCalls');
    });

    it.each([
      ['bedrock:*', ['bedrock:*']],
      ['bedrock:Invoke*', ['bedrock:Invoke*']],
      ['InvokeModelWithResponseStream (ConverseStream)', ['bedrock:InvokeModelWithResponseStream']],
    ])('flags the model call actions however they are written: %s', (_name, actions) => {
      const result = run(
        (s) =>
          new iam.ManagedPolicy(s, 'Policy', {
            statements: [new iam.PolicyStatement({ actions, resources: catalogArns(s) })],
          }),
      );
      expect(ruleIds(result)).toContain('Switchboard-GuardrailOnModelCalls');
    });

    it('flags a role inline policy and NotAction that leaves the model calls allowed', () => {
      const result = run((s) => {
        new iam.CfnRole(s, 'Role', {
          assumeRolePolicyDocument: { Statement: [] },
          policies: [
            {
              policyName: 'p',
              policyDocument: {
                Statement: [{ Effect: 'Allow', NotAction: ['s3:*'], Resource: catalogArns(s) }],
              },
            },
          ],
        });
      });
      expect(resourcesOf(result, 'Switchboard-GuardrailOnModelCalls')).toEqual(['Fixture/Role']);
    });

    it("accepts the inference function's statements: Allow with the guardrail version, Deny without it, ApplyGuardrail", () => {
      const result = run((s) => {
        const guardrail = new SwitchboardGuardrail(s, 'Guardrail', {
          name: 'sb-test',
          owner: 'test',
          policy: PLAN_GUARDRAILS.basic,
          key: kms.Key.fromKeyArn(s, 'GuardrailKey', 'arn:aws:kms:us-east-1:111122223333:key/test'),
        });
        const role = new iam.Role(s, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
        const policy = new iam.ManagedPolicy(s, 'Policy', { roles: [role] });
        guardrail.grantInvokeModelsWith(
          {
            grantPrincipal: new (class extends iam.PrincipalBase {
              readonly assumeRoleAction = 'sts:AssumeRole';
              readonly policyFragment = role.policyFragment;
              addToPrincipalPolicy(st: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
                policy.addStatements(st);
                return { statementAdded: true, policyDependable: policy };
              }
              dedupeString() {
                return 'fixture';
              }
            })(),
          },
          catalogArns(s),
        );
      });
      expect(ruleIds(result)).toEqual([]);
    });

    it('flags bedrock:ApplyGuardrail on "*" (Switchboard-BedrockScopedToModels), accepts it on a guardrail', () => {
      const apply = (resource: string) =>
        run(
          (s) =>
            new iam.ManagedPolicy(s, 'Policy', {
              statements: [new iam.PolicyStatement({ actions: ['bedrock:ApplyGuardrail'], resources: [resource] })],
            }),
        );
      expect(ruleIds(apply('*'))).toEqual(['Switchboard-BedrockScopedToModels']);
      expect(ruleIds(apply(GUARDRAIL_ARN))).toEqual([]);
    });
  });
});

/** The IAM ARNs of one catalog model. */
function catalogArns(s: Stack): string[] {
  return modelResourceArns('us.amazon.nova-micro-v1:0', {
    partition: s.partition,
    region: s.region,
    account: s.account,
  });
}

/** A managed policy allowing the catalog model with the given conditions. */
function invokePolicy(s: Stack, conditions: Record<string, Record<string, unknown>> | undefined) {
  return new iam.ManagedPolicy(s, 'Policy', {
    statements: [
      new iam.PolicyStatement({
        actions: ['bedrock:InvokeModel'],
        resources: catalogArns(s),
        ...(conditions ? { conditions } : {}),
      }),
    ],
  });
}

describe('CompliancePlugin', () => {
  const appWithPlugin = () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-compliance-'));
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const plugin = new CompliancePlugin(app);
    Validations.of(app).addPlugins(plugin);
    return { app, plugin, outdir };
  };

  it('fails the synth on an unacknowledged finding and names the rule in the validation report', () => {
    const { app, outdir } = appWithPlugin();
    new dynamodb.Table(new Stack(app, 'Leaky'), 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    expect(() => quietly(() => app.synth())).toThrow(/Switchboard-RetainTenantData[\s\S]*validation-report\.json/);
    const reportPath = path.join(outdir, 'validation-report.json');
    const validation = fs.readFileSync(reportPath, 'utf8');
    expect(validation).toContain('"ruleName": "Switchboard-RetainTenantData"');
    expect(validation).toContain('Leaky/Table/Resource');
    const written = JSON.parse(fs.readFileSync(path.join(outdir, REPORT_FILES.json), 'utf8')) as ComplianceReport;
    expect(written.totals.findings).toBeGreaterThan(0);
  });

  it("fails the synth on a failing isolation cell: a tenant role reading another tenant's table", () => {
    const build = (leak: boolean) => {
      const { app, outdir } = appWithPlugin();
      const roles = ['alpha', 'beta'].map((tenant) => {
        const stack = new Stack(app, `Silo-${tenant}`);
        const table = new dynamodb.Table(stack, 'Ledger', {
          partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        });
        const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
        table.grantReadWriteData(role);
        Tags.of(stack).add(SWITCHBOARD_TAGS.tenant, tenant);
        return role;
      });
      if (leak) {
        roles[0]!.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'Leak',
            actions: ['dynamodb:GetItem'],
            resources: ['arn:aws:dynamodb:*:*:table/*'],
          }),
        );
      }
      expect(() => quietly(() => app.synth())).toThrow();
      return fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8');
    };
    const leaking = build(true);
    expect(leaking).toContain('"ruleName": "Switchboard-TenantIsolation"');
    expect(leaking).toMatch(
      /cross-tenant access allowed: <Silo-alpha\/Reader[^"]*tenant beta \(silo\) items[^"]*#Leak/,
    );
    // The same app without the leak fails only on the packs' findings (tables not retained...), not on isolation.
    expect(build(false)).not.toContain('Switchboard-TenantIsolation');
  });

  it('writes a capacity report given to it into the JSON as given, and renders it in Markdown and HTML', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-compliance-'));
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    Validations.of(app).addPlugins(new CompliancePlugin(app, { capacity: CAPACITY }));
    new Stack(app, 'Empty');
    quietly(() => app.synth());
    const written = JSON.parse(fs.readFileSync(path.join(outdir, REPORT_FILES.json), 'utf8')) as ComplianceReport;
    expect(written.capacity).toEqual(CAPACITY);
    const md = fs.readFileSync(path.join(outdir, REPORT_FILES.markdown), 'utf8');
    expect(md).toContain('| Concurrent executions<br>`lambda.concurrentExecutions` | Lambda | runtime | 1200 | 1000 |');
    const html = fs.readFileSync(path.join(outdir, REPORT_FILES.html), 'utf8');
    expect(html).toContain('<tr class="alert"><td>Concurrent executions<br><code>lambda.concurrentExecutions</code>');
  });

  it('lets the synth through once the only finding is acknowledged, and reports the acknowledgement', () => {
    const { app, plugin, outdir } = appWithPlugin();
    const key = new kms.Key(new Stack(app, 'Keys'), 'Key', { enableKeyRotation: true });
    acknowledge(key, 'Switchboard-KeyNotUsableByAccount', REASON);
    quietly(() => app.synth());
    expect(plugin.lastReport?.totals).toEqual({ findings: 0, acknowledged: 1 });
    expect(fs.existsSync(path.join(outdir, REPORT_FILES.markdown))).toBe(true);
  });
});

describe('acknowledge()', () => {
  const scope = () => new Construct(new Stack(new App(), 'Ack'), 'Thing');

  it.each([
    'switchboard-compliance::AwsSolutions-IAM5',
    'AwsSolutions IAM5',
    'Checkov-CKV_AWS_1',
    'AwsSolutions-IAM5[Resource::*',
    'AwsSolutions-',
  ])('throws on the malformed rule id %p', (id) => {
    expect(() => acknowledge(scope(), id, REASON)).toThrow(/Malformed rule id/);
  });

  it.each(['', 'because', '   too short but padded with spaces     '])(
    'throws on the too-short reason %p',
    (reason) => {
      expect(() => acknowledge(scope(), 'AwsSolutions-IAM5[Resource::*]', reason)).toThrow(/needs a reason/);
    },
  );

  it('records a well-formed acknowledgement with its construct path', () => {
    const s = scope();
    acknowledge(s, 'AwsSolutions-IAM5[Resource::*]', REASON);
    expect(madeAcknowledgements().at(-1)).toEqual({
      constructPath: 'Ack/Thing',
      ruleId: 'AwsSolutions-IAM5[Resource::*]',
      reason: REASON,
    });
  });
});
