/**
 * Isolation evidence for a pool cell: the construct synthesized in a test stack, its role policies evaluated
 * offline (test/support/iam-eval.ts) against requests of one tenant's session for its own and other tenants' items
 * and key, as IAM would with the session tag as `aws:PrincipalTag/switchboard:tenant`.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { poolPartitionKey, TENANT_SESSION_TAG, tenantOfPoolKey } from '../../../../lambda/shared/pool-keys';
import { ManagedPolicyRole } from '../../../../lib/constructs/iam/managed-policy-role';
import {
  POOL_KEY_ACTIONS,
  POOL_TABLE_ACTIONS,
  PoolTenantAccess,
} from '../../../../lib/constructs/pool/tenant-access-role';
import { allows, decide, type IamRequest } from '../../../support/iam-eval';
import {
  asArray,
  flatten,
  props,
  resourcesOfType,
  roleStatements,
  type StatementJson,
  type TemplateLike,
  testApp,
} from '../../template-utils';

function synthCell() {
  const stack = new Stack(testApp(), 'PoolCell', { env: { account: '123456789012', region: 'eu-west-1' } });
  const table = new dynamodb.Table(stack, 'Ledger', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const key = new kms.Key(stack, 'PoolKey');
  const fn = new ManagedPolicyRole(stack, 'PooledFunction', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'pooled inference function',
  });
  const access = new PoolTenantAccess(stack, 'TenantAccess', {
    table,
    key,
    pooledFunctionRole: fn.role,
    cellId: 'pool-1',
  });
  access.grantAssume(fn.grantPrincipal);
  const t = Template.fromStack(stack).toJSON() as TemplateLike;
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  return {
    template: t,
    tableArn: `<${id(table)}.Arn>`,
    keyArn: `<${id(key)}.Arn>`,
    fnRoleId: id(fn.role),
    accessRoleId: id(access.role as iam.Role),
  };
}

const cell = synthCell();
const statementsOfRole = (roleId: string) => roleStatements(cell.template, roleId, cell.template, 'PoolCell');
const accessStatements = statementsOfRole(cell.accessRoleId);
const fnStatements = statementsOfRole(cell.fnRoleId);
const TENANTS = ['acme', 'globex', 'acme-eu'];

/** A request of `tenant`'s session (the session tag as principal tag), or of a session without the tag. */
const asSession = (tenant: string | undefined, req: IamRequest): IamRequest => ({
  ...req,
  context: { ...(req.context ?? {}), ...(tenant ? { [`aws:PrincipalTag/${TENANT_SESSION_TAG}`]: tenant } : {}) },
});
const itemRequest = (action: string, keys: string[]): IamRequest => ({
  action,
  resource: cell.tableArn,
  context: { 'dynamodb:LeadingKeys': keys },
});
const keyRequest = (action: string, context: Record<string, string>): IamRequest => ({
  action,
  resource: cell.keyArn,
  context: {
    ...Object.fromEntries(Object.entries(context).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
    'kms:EncryptionContextKeys': Object.keys(context),
  },
});

describe('pool cell isolation (tenant-access role, evaluated offline)', () => {
  it.each(TENANTS.flatMap((a) => TENANTS.map((b) => [a, b] as const)))(
    "%s's session reaches %s's items only when they are its own",
    (a, b) => {
      const own = a === b;
      for (const action of POOL_TABLE_ACTIONS) {
        const req = asSession(a, itemRequest(action, [poolPartitionKey(b, 'REQ#r1')]));
        expect({ action, allowed: allows(accessStatements, req) }).toEqual({ action, allowed: own });
      }
      for (const action of POOL_KEY_ACTIONS) {
        const req = asSession(a, keyRequest(action, { tenant: b }));
        expect({ action, allowed: allows(accessStatements, req) }).toEqual({ action, allowed: own });
      }
    },
  );

  it('refuses a batch that mixes a foreign key into own keys, and keys that only look like the prefix', () => {
    const acme = (keys: string[]) =>
      allows(accessStatements, asSession('acme', itemRequest('dynamodb:BatchGetItem', keys)));
    expect(acme([poolPartitionKey('acme', 'REQ#1'), poolPartitionKey('acme', 'USAGE#2026-12')])).toBe(true);
    expect(acme([poolPartitionKey('acme', 'REQ#1'), poolPartitionKey('globex', 'REQ#1')])).toBe(false);
    // acme must not reach acme-eu's items through a prefix match: the separator ends the id.
    expect(acme([poolPartitionKey('acme-eu', 'REQ#1')])).toBe(false);
    expect(acme(['T#acme'])).toBe(false);
    expect(acme(['REQ#1'])).toBe(false);
    expect(tenantOfPoolKey(poolPartitionKey('acme-eu', 'REQ#1'))).toBe('acme-eu');
  });

  it('refuses a request without leading keys (a Scan), and grants no Scan', () => {
    expect(allows(accessStatements, asSession('acme', { action: 'dynamodb:Scan', resource: cell.tableArn }))).toBe(
      false,
    );
    expect(allows(accessStatements, asSession('acme', { action: 'dynamodb:Query', resource: cell.tableArn }))).toBe(
      false,
    );
  });

  it('refuses the key with a missing, foreign or widened encryption context', () => {
    const acme = (ctx: Record<string, string>) =>
      allows(accessStatements, asSession('acme', keyRequest('kms:Decrypt', ctx)));
    expect(acme({ tenant: 'acme' })).toBe(true);
    expect(acme({})).toBe(false);
    expect(acme({ tenant: 'globex' })).toBe(false);
    expect(acme({ tenant: 'acme', purpose: 'x' })).toBe(false);
    expect(acme({ Tenant: 'acme' })).toBe(false);
  });

  it('a session without the tenant tag reaches nothing', () => {
    for (const action of POOL_TABLE_ACTIONS) {
      expect(
        allows(accessStatements, asSession(undefined, itemRequest(action, [poolPartitionKey('acme', 'REQ#1')]))),
      ).toBe(false);
    }
    for (const action of POOL_KEY_ACTIONS) {
      expect(allows(accessStatements, asSession(undefined, keyRequest(action, { tenant: 'acme' })))).toBe(false);
    }
  });

  it("the pooled function's own role reaches no tenant's items nor the key; it may only assume the access role", () => {
    for (const t of TENANTS) {
      for (const action of [...POOL_TABLE_ACTIONS, 'dynamodb:Scan']) {
        expect(allows(fnStatements, asSession(t, itemRequest(action, [poolPartitionKey(t, 'REQ#1')])))).toBe(false);
      }
      for (const action of POOL_KEY_ACTIONS) {
        expect(allows(fnStatements, asSession(t, keyRequest(action, { tenant: t })))).toBe(false);
      }
    }
    const accessRoleArn = `<${cell.accessRoleId}.Arn>`;
    expect(allows(fnStatements, { action: 'sts:AssumeRole', resource: accessRoleArn })).toBe(true);
    expect(allows(fnStatements, { action: 'sts:TagSession', resource: accessRoleArn })).toBe(true);
    const resources = fnStatements.flatMap((s: StatementJson) => asArray(s.Resource as unknown[]).map(flatten));
    expect(resources).toEqual([accessRoleArn]);
  });

  describe('trust of the access role', () => {
    const [, role] = resourcesOfType(cell.template, 'AWS::IAM::Role').find(([id]) => id === cell.accessRoleId)!;
    const trust = (props(role).AssumeRolePolicyDocument as { Statement: StatementJson[] }).Statement;
    const fnArn = `<${cell.fnRoleId}.Arn>`;
    const assume = (principal: string, tags: Record<string, string>) => (action: string) =>
      decide(trust, {
        action,
        principal,
        context: {
          ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
          ...(Object.keys(tags).length ? { 'aws:TagKeys': Object.keys(tags) } : {}),
        },
      });

    it('lets the pooled function assume it with the tenant tag (sts:AssumeRole and sts:TagSession)', () => {
      const ok = assume(fnArn, { [TENANT_SESSION_TAG]: 'acme' });
      expect([ok('sts:AssumeRole'), ok('sts:TagSession')]).toEqual(['allow', 'allow']);
    });

    it('refuses it without the tag, with another tag besides, and refuses every other principal', () => {
      expect(assume(fnArn, {})('sts:AssumeRole')).toBe('none');
      expect(assume(fnArn, { [TENANT_SESSION_TAG]: 'acme', other: 'x' })('sts:TagSession')).toBe('none');
      expect(
        assume('arn:<AWS::Partition>:iam::123456789012:role/other', { [TENANT_SESSION_TAG]: 'acme' })('sts:AssumeRole'),
      ).toBe('none');
      expect(assume('<SomeOtherRole.Arn>', { [TENANT_SESSION_TAG]: 'acme' })('sts:AssumeRole')).toBe('none');
    });
  });
});
