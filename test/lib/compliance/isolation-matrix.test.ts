/**
 * The isolation matrix on small apps: a pool cell built from PoolTenantAccess with a table and key, and two silo
 * tenants, each fixture with one flaw that must surface as a failing cell (and none without it).
 */
import { type App, Stack, Tags } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { TENANT_SESSION_TAG } from '../../../lambda/shared/pool-keys';
import { ISOLATION_EXCEPTIONS } from '../../../lib/compliance/isolation-exceptions';
import { markPoolCell } from '../../../lib/compliance/isolation-markers';
import {
  buildIsolationMatrix,
  type IsolationFinding,
  type IsolationMatrix,
  type MatrixPrincipal,
  POOL_PROBE_TENANTS,
  SCAN_KEYS_ONLY,
} from '../../../lib/compliance/isolation-matrix';
import { isolationSection } from '../../../lib/compliance/isolation-section';
import { SWITCHBOARD_TAGS } from '../../../lib/config/tags';
import { PoolTenantAccess } from '../../../lib/constructs/pool/tenant-access-role';
import { testApp } from '../template-utils';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** A silo tenant's stack: ledger, key, an inference role with its own table and key. */
function silo(app: App, tenant: string) {
  const stack = new Stack(app, `Silo-${tenant}`, { env: ENV });
  const table = new dynamodb.Table(stack, 'Ledger', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const key = new kms.Key(stack, 'Key');
  const role = new iam.Role(stack, 'InferenceRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  table.grantReadWriteData(role);
  key.grantEncryptDecrypt(role);
  Tags.of(stack).add(SWITCHBOARD_TAGS.tenant, tenant);
  return { stack, table, key, role };
}

/** A pool cell: table, key, pooled function role and the tenant-access role (or what `access` builds instead). */
function poolCell(
  app: App,
  tenants: string[],
  access?: (stack: Stack, table: dynamodb.Table, key: kms.Key, fn: iam.Role) => iam.IRole,
) {
  const stack = new Stack(app, 'Pool-1', { env: ENV });
  const table = new dynamodb.Table(stack, 'Ledger', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const key = new kms.Key(stack, 'PoolKey');
  const fn = new iam.Role(stack, 'PooledFunction', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  let role: iam.IRole;
  if (access) {
    role = access(stack, table, key, fn);
  } else {
    const construct = new PoolTenantAccess(stack, 'TenantAccess', {
      table,
      key,
      pooledFunctionRole: fn,
      cellId: 'pool-1',
    });
    construct.grantAssume(fn);
    role = construct.role;
  }
  markPoolCell(stack, { cellId: 'pool-1', table, key, accessRole: role, pooledFunctionRole: fn, tenants });
  return { stack, table, key };
}

function matrixOf(app: App): IsolationMatrix {
  const assembly = app.synth();
  return buildIsolationMatrix(
    assembly.stacks.map((s) => ({
      stackName: s.stackName,
      template: s.template,
      region: s.environment.region,
      account: s.environment.account,
    })),
  );
}

const brief = (f: IsolationFinding) => `${f.problem}: ${f.principal} → ${f.tenant} ${f.kind} [${f.actions.join(',')}]`;

describe('isolation matrix', () => {
  it('a pool cell of PoolTenantAccess and two silo tenants: every cross-tenant cell denied, every own cell allowed', () => {
    const app = testApp();
    silo(app, 'alpha');
    silo(app, 'beta');
    poolCell(app, ['acme', 'acme-eu', 'globex']);
    const m = matrixOf(app);
    expect(m.findings.map(brief)).toEqual([]);
    const pool = m.summary.find((s) => s.model === 'pool')!;
    const siloSummary = m.summary.find((s) => s.model === 'silo')!;
    // Principals: 2 silo roles, the pooled function role, 3 tenant sessions and 1 untagged session; each tenant's
    // data is probed by the 6 that are not its own, in 3 kinds (items, key, roles); own cells: read and write of
    // items and key. The pooled function may assume each pooled tenant's session: the one exception.
    expect(m.principals).toBe(7);
    expect(pool).toEqual({
      model: 'pool',
      tenants: 3,
      cross: { denied: 3 * 3 * 6 - 3, total: 3 * 3 * 6 - 3, excepted: 3 },
      own: { allowed: 3 * 2 * 2, total: 3 * 2 * 2 },
    });
    expect(siloSummary).toEqual({
      model: 'silo',
      tenants: 2,
      cross: { denied: 2 * 3 * 6, total: 2 * 3 * 6, excepted: 0 },
      own: { allowed: 2 * 2 * 2, total: 2 * 2 * 2 },
    });
    expect(m.exceptions.map((e) => [e.id, e.principals, e.cells])).toEqual([
      ['aws-backup', [], 0],
      ['pooled-function', [expect.stringMatching(/^<Pool-1\/PooledFunction/)], 3],
      // No control plane in this app: the exception is listed, unused.
      ['control-plane', [], 0],
    ]);
    expect(m.tenants.filter((t) => t.probe)).toEqual([]);
  });

  it('probes a cell holding fewer than two tenants with stand-ins, and says so', () => {
    const app = testApp();
    poolCell(app, ['acme']);
    const m = matrixOf(app);
    expect(m.tenants.map((t) => [t.tenant, t.probe])).toEqual([
      ['acme', false],
      [POOL_PROBE_TENANTS[0], true],
      [POOL_PROBE_TENANTS[1], true],
    ]);
    expect(m.notes.join(' ')).toContain('stand-in tenants');
    expect(m.findings).toEqual([]);
  });

  it("catches a silo role granted a wildcard table ARN: it reads and writes the other tenant's items", () => {
    const app = testApp();
    const alpha = silo(app, 'alpha');
    silo(app, 'beta');
    alpha.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EveryTable',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [`arn:aws:dynamodb:${ENV.region}:${ENV.account}:table/*`],
      }),
    );
    poolCell(app, ['acme', 'globex']);
    const m = matrixOf(app);
    const found = m.findings.filter((f) => f.principal.includes('Silo-alpha/InferenceRole'));
    // beta's table and both pooled tenants' items in the cell's table.
    expect(found.map((f) => [f.problem, f.tenant, f.kind, f.actions])).toEqual([
      ['cross-tenant access allowed', 'acme', 'items', ['dynamodb:GetItem', 'dynamodb:PutItem']],
      ['cross-tenant access allowed', 'beta', 'items', ['dynamodb:GetItem', 'dynamodb:PutItem']],
      ['cross-tenant access allowed', 'globex', 'items', ['dynamodb:GetItem', 'dynamodb:PutItem']],
    ]);
    expect(
      found[1]!.statements.some(
        (s) => s.startsWith('Silo-alpha/InferenceRoleDefaultPolicy') && s.endsWith('#EveryTable'),
      ),
    ).toBe(true);
    expect(found[1]!.resource).toMatch(/^<Silo-beta\/Ledger/);
    expect(m.findings).toHaveLength(3);
  });

  it('catches a pool access role without the LeadingKeys condition: each session reaches every tenant', () => {
    const app = testApp();
    poolCell(app, ['acme', 'globex'], (stack, table, key) => {
      const role = new iam.Role(stack, 'LooseAccess', { assumedBy: new iam.AccountRootPrincipal() });
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'AllItems',
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          resources: [table.tableArn],
        }),
      );
      key.grantEncryptDecrypt(role);
      return role;
    });
    const m = matrixOf(app);
    const cross = m.findings.filter((f) => f.problem === 'cross-tenant access allowed');
    const pairs = cross.map((f) => `${f.principal.replace(/^.* session /, '')} → ${f.tenant} ${f.kind}`);
    expect(pairs).toEqual([
      `${TENANT_SESSION_TAG}=acme → globex items`,
      `${TENANT_SESSION_TAG}=acme → globex key`,
      `${TENANT_SESSION_TAG}=globex → acme items`,
      `${TENANT_SESSION_TAG}=globex → acme key`,
      `without ${TENANT_SESSION_TAG} → acme items`,
      `without ${TENANT_SESSION_TAG} → acme key`,
      `without ${TENANT_SESSION_TAG} → globex items`,
      `without ${TENANT_SESSION_TAG} → globex key`,
    ]);
    expect(cross.every((f) => f.statements.length > 0)).toBe(true);
  });

  it("catches a key policy that lets another tenant's role use the key", () => {
    const app = testApp();
    const alpha = silo(app, 'alpha');
    const beta = silo(app, 'beta');
    beta.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlsoAlpha',
        principals: [new iam.ArnPrincipal(alpha.role.roleArn)],
        actions: ['kms:Decrypt'],
        resources: ['*'],
      }),
    );
    const m = matrixOf(app);
    const section = isolationSection(m, 'tenant-isolation');
    const failing = section.blocks.find(
      (b) => b.kind === 'table' && b.head[0]?.[0]?.kind === 'text' && b.head[0][0].text === 'problem',
    );
    expect(failing?.kind === 'table' && failing.rows.map((r) => [r.alert, JSON.stringify(r.cells)])).toEqual([
      [
        true,
        expect.stringMatching(
          /cross-tenant access allowed.*Silo-alpha\/InferenceRole.*beta \(silo\).*kms:Decrypt.*#AlsoAlpha/,
        ),
      ],
    ]);
    expect(m.findings.map((f) => [f.principal, f.tenant, f.kind, f.actions, f.statements])).toEqual([
      [
        expect.stringContaining('Silo-alpha/InferenceRole'),
        'beta',
        'key',
        ['kms:Decrypt'],
        [expect.stringMatching(/^Silo-beta\/Key[0-9A-F]*#AlsoAlpha$/)],
      ],
    ]);
  });

  it('fails an own cell when the access role names the wrong tag (the positive control)', () => {
    const app = testApp();
    poolCell(app, ['acme', 'globex'], (stack, table, key) => {
      const role = new iam.Role(stack, 'WrongTag', { assumedBy: new iam.AccountRootPrincipal() });
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resources: [table.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`T#\${aws:PrincipalTag/tenant}#*`] },
            Null: { 'dynamodb:LeadingKeys': 'false' },
          },
        }),
      );
      key.grantEncryptDecrypt(role);
      return role;
    });
    const m = matrixOf(app);
    const own = m.findings.filter((f) => f.problem === 'own access denied').map((f) => [f.tenant, f.kind, f.actions]);
    expect(own).toEqual([
      ['acme', 'items', ['dynamodb:GetItem', 'dynamodb:Query']],
      ['acme', 'items', ['dynamodb:PutItem', 'dynamodb:UpdateItem']],
      ['globex', 'items', ['dynamodb:GetItem', 'dynamodb:Query']],
      ['globex', 'items', ['dynamodb:PutItem', 'dynamodb:UpdateItem']],
    ]);
    // The key without an encryption-context condition: every session reaches every tenant's context.
    expect(m.findings.some((f) => f.problem === 'cross-tenant access allowed' && f.kind === 'key')).toBe(true);
  });

  it("catches a role that may assume another tenant's role (trust naming the account, identity allowing it)", () => {
    const app = testApp();
    const alpha = silo(app, 'alpha');
    const beta = silo(app, 'beta');
    new iam.Role(beta.stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    alpha.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'AssumeAny', actions: ['sts:AssumeRole'], resources: ['*'] }),
    );
    const m = matrixOf(app);
    expect(m.findings.map((f) => [f.principal, f.tenant, f.kind, f.resource, f.actions])).toEqual([
      [
        expect.stringContaining('Silo-alpha/InferenceRole'),
        'beta',
        'roles',
        expect.stringMatching(/^<Silo-beta\/Operator/),
        ['sts:AssumeRole'],
      ],
    ]);
    expect(m.findings[0]!.statements).toEqual([
      expect.stringMatching(/#AssumeAny$/),
      expect.stringMatching(/^Silo-beta\/Operator[0-9A-F]*\.AssumeRolePolicyDocument#0$/),
    ]);
  });

  it("the pooled function's exception covers assuming sessions only: direct access to the items still fails", () => {
    const app = testApp();
    const { table } = poolCell(app, ['acme', 'globex']);
    const fn = app.node.findChild('Pool-1').node.findChild('PooledFunction') as iam.Role;
    table.grantReadData(fn);
    const m = matrixOf(app);
    expect(m.findings.map((f) => [f.principal.replace(/[0-9A-F]{8}>$/, '>'), f.tenant, f.kind])).toEqual([
      ['<Pool-1/PooledFunction>', 'acme', 'items'],
      ['<Pool-1/PooledFunction>', 'globex', 'items'],
    ]);
  });

  it.each([false, true])(
    "catches a Lambda permission letting another tenant's role invoke a function (service permissions pass): %s",
    (alphaPermitted) => {
      const app = testApp();
      const alpha = silo(app, 'alpha');
      const beta = silo(app, 'beta');
      const fn = new lambda.Function(beta.stack, 'Handler', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => 1;'),
        role: beta.role,
      });
      fn.addPermission('Events', {
        principal: new iam.ServicePrincipal('events.amazonaws.com'),
        sourceArn: `arn:aws:events:${ENV.region}:${ENV.account}:rule/x`,
      });
      if (alphaPermitted) fn.addPermission('Alpha', { principal: new iam.ArnPrincipal(alpha.role.roleArn) });
      const m = matrixOf(app);
      expect(m.findings.map((f) => [f.principal, f.tenant, f.kind, f.actions, f.statements])).toEqual(
        alphaPermitted
          ? [
              [
                expect.stringContaining('Silo-alpha/InferenceRole'),
                'beta',
                'functions',
                ['lambda:InvokeFunction'],
                [expect.stringMatching(/^Silo-beta\/HandlerAlpha/)],
              ],
            ]
          : [],
      );
    },
  );

  it("catches administration of another tenant's resources: passing its role (whatever the role trusts), deleting its table", () => {
    const app = testApp();
    const alpha = silo(app, 'alpha');
    silo(app, 'beta');
    alpha.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'Admin',
        actions: ['iam:PassRole', 'dynamodb:DeleteTable'],
        resources: [`arn:aws:iam::${ENV.account}:role/*`, `arn:aws:dynamodb:${ENV.region}:${ENV.account}:table/*`],
      }),
    );
    const m = matrixOf(app);
    expect(m.findings.map((f) => [f.tenant, f.kind, f.actions])).toEqual([
      ['beta', 'items', ['dynamodb:DeleteTable']],
      ['beta', 'roles', ['iam:PassRole']],
    ]);
    expect(m.findings[1]!.statements).toEqual([expect.stringMatching(/#Admin$/)]);
  });

  it('tells a Scan of the key attributes from a full Scan: an exception for the first does not cover the second', () => {
    const run = (full: boolean) => {
      const app = testApp();
      const { table } = poolCell(app, ['acme', 'globex']);
      const operator = new iam.Role(new Stack(app, 'Ops', { env: ENV }), 'Offboarding', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      operator.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Scan'],
          resources: [table.tableArn],
          conditions: full
            ? undefined
            : {
                StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
                'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk'] },
              },
        }),
      );
      const stacks = app.synth().stacks.map((st) => ({
        stackName: st.stackName,
        template: st.template,
        region: ENV.region,
        account: ENV.account,
      }));
      const keysOnly = {
        id: 'offboarding',
        reason: 'lists keys',
        principal: (p: MatrixPrincipal) => p.stack === 'Ops',
        kinds: ['items' as const],
        actions: [SCAN_KEYS_ONLY],
      };
      return [
        buildIsolationMatrix(stacks),
        buildIsolationMatrix(stacks, { exceptions: [...ISOLATION_EXCEPTIONS, keysOnly] }),
      ];
    };
    const [plain, excepted] = run(false);
    expect(plain!.findings.map((f) => [f.tenant, f.kind, f.actions])).toEqual([
      ['acme', 'items', [SCAN_KEYS_ONLY]],
      ['globex', 'items', [SCAN_KEYS_ONLY]],
    ]);
    expect(excepted!.findings).toEqual([]);
    expect(excepted!.exceptions.find((e) => e.id === 'offboarding')?.cells).toBe(2);
    const [, fullScan] = run(true);
    expect(fullScan!.findings.map((f) => [f.tenant, f.actions])).toEqual([
      ['acme', ['dynamodb:Scan', SCAN_KEYS_ONLY]],
      ['globex', ['dynamodb:Scan', SCAN_KEYS_ONLY]],
    ]);
  });

  it('reports a role with a policy the templates do not contain as not evaluable, unless an exception covers it', () => {
    const app = testApp();
    silo(app, 'alpha');
    const platform = new Stack(app, 'Platform', { env: ENV });
    new iam.Role(platform, 'Ops', {
      assumedBy: new iam.AccountRootPrincipal(),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')],
    });
    const m = matrixOf(app);
    expect(m.findings.map((f) => [f.problem, f.tenant, f.kind])).toEqual([
      ['cross-tenant access not evaluable', 'alpha', 'items'],
      ['cross-tenant access not evaluable', 'alpha', 'key'],
      ['cross-tenant access not evaluable', 'alpha', 'roles'],
    ]);
    expect(m.findings[0]!.statements).toEqual(['arn:<AWS::Partition>:iam::aws:policy/ReadOnlyAccess']);
    const excepted = buildIsolationMatrix(
      app.synth().stacks.map((s) => ({
        stackName: s.stackName,
        template: s.template,
        region: ENV.region,
        account: ENV.account,
      })),
      { exceptions: [{ id: 'ops', reason: 'read-only operators', principal: (p) => p.stack === 'Platform' }] },
    );
    expect(excepted.findings).toEqual([]);
    expect(excepted.exceptions).toEqual([
      { id: 'ops', reason: 'read-only operators', principals: [expect.stringContaining('Platform/Ops')], cells: 3 },
    ]);
  });

  it('refuses a pool cell marker naming a resource its stack does not have', () => {
    const app = testApp();
    const { stack } = poolCell(app, ['acme', 'globex']);
    stack.addMetadata('switchboard:pool-cell', {
      cellId: 'x',
      ledgerTable: 'Nope',
      key: 'Nope',
      accessRole: 'Nope',
      tenants: [],
    });
    expect(() => matrixOf(app)).toThrow(/names ledgerTable Nope/);
  });
});
