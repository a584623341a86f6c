/**
 * A pool cell as `npx cdk synth` builds it (the repository's tenants and cdk.json): what the cell's tenants share,
 * and what its pooled function's own role can and cannot reach, evaluated offline on the synthesized policies.
 */
import { LEDGER_KEYS } from '../../../lambda/shared/ledger-schema';
import { TENANT_SESSION_TAG } from '../../../lambda/shared/pool-keys';
import { POOL_ENV, REGISTRY_TABLE_NAME } from '../../../lambda/shared/pool-runtime';
import { REGISTRY_TABLE_ENV } from '../../../lambda/shared/registry-schema';
import { LEDGER_TABLE_ENV } from '../../../lambda/shared/tenant-runtime';
import { PoolCellStack } from '../../../lib/stacks/pool-cell-stack';
import { PLATFORM_STACK_NAME } from '../../../lib/switchboard';
import { decide, type IamRequest } from '../../support/iam-eval';
import { synthSwitchboard } from '../../support/synth';
import {
  asArray,
  type CfnResourceJson,
  flatten,
  props,
  resourcesOfType,
  roleStatements,
  statementsOf,
  type TemplateLike,
  testApp,
} from '../template-utils';

const synth = synthSwitchboard({ compliance: false });
const CELL = 'Switchboard-Pool-1';
const cell = synth.template(CELL) as unknown as TemplateLike;
const platform = synth.template(PLATFORM_STACK_NAME) as unknown as TemplateLike;

/** The logical id of the only resource of `type` whose id starts with `prefix`. */
function only(type: string, prefix: string): string {
  const ids = resourcesOfType(cell, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

const fnId = only('AWS::Lambda::Function', 'InferenceFunction');
const fnProps = props(cell.Resources[fnId]!) as {
  Role: unknown;
  Environment: { Variables: Record<string, unknown> };
};
const fnRoleId = flatten(fnProps.Role).replace(/^<|\.Arn>$/g, '');
const fnStatements = roleStatements(cell, fnRoleId, platform, PLATFORM_STACK_NAME);
const ledgerId = only('AWS::DynamoDB::Table', 'DataLedger');
const ledgerArn = `<${ledgerId}.Arn>`;
const ledgerKeyArn = `<${only('AWS::KMS::Key', 'DataKey')}.Arn>`;
const accessRoleId = only('AWS::IAM::Role', 'InferenceTenantAccess');
const asFunction = (req: IamRequest) => decide(fnStatements, req);

describe('Switchboard-Pool-1', () => {
  it("gives the pooled function no access to the cell's ledger or its key, whatever the request", () => {
    const tableActions = [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
    ];
    for (const action of tableActions) {
      for (const resource of [ledgerArn, `${ledgerArn}/index/${'reviews'}`]) {
        const context = { 'dynamodb:LeadingKeys': ['T#hooli#REQ#1'] };
        expect([action, resource, asFunction({ action, resource, context })]).toEqual([action, resource, 'none']);
      }
    }
    for (const action of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']) {
      const contexts: Array<Record<string, string | string[]>> = [
        { 'kms:EncryptionContext:tenant': 'hooli', 'kms:EncryptionContextKeys': ['tenant'] },
        { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' },
        { 'kms:ViaService': 'sns.us-east-1.amazonaws.com' },
      ];
      for (const context of contexts) {
        expect([action, context, asFunction({ action, resource: ledgerKeyArn, context })]).toEqual([
          action,
          context,
          'none',
        ]);
      }
    }
  });

  it("lets the pooled function assume the cell's tenant-access role with a tag, read tenant items and list tenants of the registry", () => {
    const accessArn = `<${accessRoleId}.Arn>`;
    expect(asFunction({ action: 'sts:AssumeRole', resource: accessArn })).toBe('allow');
    expect(asFunction({ action: 'sts:TagSession', resource: accessArn })).toBe('allow');
    const registry = `arn:<AWS::Partition>:dynamodb:us-east-1:<AWS::AccountId>:table/${REGISTRY_TABLE_NAME}`;
    const get = (keys: string[]) =>
      asFunction({ action: 'dynamodb:GetItem', resource: registry, context: { 'dynamodb:LeadingKeys': keys } });
    expect(get(['TENANT#hooli'])).toBe('allow');
    // API key items are the authorizer's to read; the audit trail is the control plane's.
    expect(get(['KEY#abc'])).toBe('none');
    expect(get(['AUDIT#hooli'])).toBe('none');
    expect(asFunction({ action: 'dynamodb:PutItem', resource: registry })).toBe('none');
    // Listing its tenants reads the cell's partition of the byCell index; the fleet-wide byKind index is not its.
    expect(asFunction({ action: 'dynamodb:Query', resource: `${registry}/index/byCell` })).toBe('allow');
    expect(asFunction({ action: 'dynamodb:Query', resource: `${registry}/index/byKind` })).not.toBe('allow');
    expect(asFunction({ action: 'dynamodb:Query', resource: registry })).toBe('none');
  });

  it('calls models only with one of the plans’ guardrails', () => {
    const deny = fnStatements.find((s) => s.Effect === 'Deny' && asArray(s.Action).includes('bedrock:InvokeModel'));
    const values = asArray(
      (deny!.Condition as Record<string, Record<string, unknown>>).StringNotEquals?.['bedrock:GuardrailIdentifier'] as
        | unknown[]
        | undefined,
    ).map(flatten);
    expect(values).toHaveLength(3);
    for (const plan of ['Basic', 'Standard', 'Premium']) {
      expect(values.some((v) => v.includes(`GuardrailsPlan${plan}`))).toBe(true);
    }
  });

  it("tells the function its cell, ledger, registry, tenant-access role and the plans' guardrails", () => {
    const env = fnProps.Environment.Variables;
    expect(env[POOL_ENV.cellId]).toBe('pool-1');
    expect(flatten(env[LEDGER_TABLE_ENV])).toBe(`<${ledgerId}>`);
    expect(env[REGISTRY_TABLE_ENV]).toBe(REGISTRY_TABLE_NAME);
    expect(flatten(env[POOL_ENV.tenantAccessRoleArn])).toBe(`<${accessRoleId}.Arn>`);
    const guardrails = flatten(env[POOL_ENV.guardrails]);
    for (const plan of ['basic', 'standard', 'premium']) expect(guardrails).toContain(`"${plan}":{"arn":`);
  });

  it('lets the tenant-access role be assumed, with the tenant tag only, by the pooled function and the control plane role', () => {
    const trust = statementsOf(props(cell.Resources[accessRoleId]!).AssumeRolePolicyDocument);
    const tagged = { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: 'hooli', 'aws:TagKeys': [TENANT_SESSION_TAG] };
    const fnArn = `<${fnRoleId}.Arn>`;
    const controlPlane = 'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/switchboard-control-plane-us-east-1';
    expect(decide(trust, { action: 'sts:AssumeRole', principal: fnArn, context: tagged })).toBe('allow');
    expect(decide(trust, { action: 'sts:AssumeRole', principal: fnArn })).toBe('none');
    expect(
      decide(trust, {
        action: 'sts:AssumeRole',
        principal: fnArn,
        context: { ...tagged, 'aws:TagKeys': ['x', TENANT_SESSION_TAG] },
      }),
    ).toBe('none');
    // The control plane role is named by ARN in a condition (the account as principal: the role is deployed later).
    // test/support/iam-eval.ts matches an account principal only with a literal account id, so the statement is
    // checked as written: the same tag conditions as the function's, and the one role ARN.
    const [fnTrust, cpTrust] = [
      trust.find((t) => t.Sid === 'PooledFunctionWithTenantTag'),
      trust.find((t) => t.Sid === 'ControlPlaneWithTenantTag'),
    ];
    const { ArnEquals, ...tagConditions } = cpTrust!.Condition as Record<string, Record<string, unknown>>;
    expect(tagConditions).toEqual(fnTrust?.Condition);
    expect(flatten(ArnEquals?.['aws:PrincipalArn'])).toBe(controlPlane);
    expect(flatten((cpTrust!.Principal as { AWS: unknown }).AWS)).toBe(
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:root',
    );
    // The cell's review functions take tenant sessions the same way (the same tag conditions), and nobody else.
    for (const [sid, role] of [
      ['ReviewStepsWithTenantTag', 'ReviewStepsRole'],
      ['ReviewApiWithTenantTag', 'ReviewApiRole'],
    ] as const) {
      const t = trust.find((x) => x.Sid === sid);
      expect(t?.Condition).toEqual(fnTrust?.Condition);
      expect(flatten((t!.Principal as { AWS: unknown }).AWS)).toMatch(new RegExp(`^<${role}[0-9A-F]{8}\\.Arn>$`));
    }
    expect(trust).toHaveLength(4);
  });

  it('puts the pool authorizer on every method of its API, with no API key or usage plan', () => {
    const authorizerId = only('AWS::ApiGateway::Authorizer', 'Authorizer');
    const all = resourcesOfType(cell, 'AWS::ApiGateway::Method').filter(([, m]) => props(m).HttpMethod !== 'OPTIONS');
    // The review routes are IAM-authorized for the reviewer role (under /v1/tenants/{tenantId}/reviews) or take a
    // reviewer's Cognito sign-in (the console's, under /v1/reviewer/tenants/{tenantId}/reviews); the console's files
    // are public.
    const auth = (m: CfnResourceJson) => String(props(m).AuthorizationType ?? 'NONE');
    const methods = all.filter(([, m]) => auth(m) === 'CUSTOM');
    expect(methods.length).toBe(3);
    expect(all.filter(([, m]) => auth(m) === 'AWS_IAM')).toHaveLength(4);
    expect(all.filter(([, m]) => auth(m) === 'COGNITO_USER_POOLS')).toHaveLength(3);
    expect(all.filter(([, m]) => auth(m) === 'NONE')).toHaveLength(2);
    expect(all).toHaveLength(12);
    for (const [, m] of methods) {
      expect(props(m).AuthorizationType).toBe('CUSTOM');
      expect(flatten(props(m).AuthorizerId)).toBe(`<${authorizerId}>`);
      expect(props(m).ApiKeyRequired).not.toBe(true);
    }
    expect(resourcesOfType(cell, 'AWS::ApiGateway::ApiKey')).toEqual([]);
    expect(resourcesOfType(cell, 'AWS::ApiGateway::UsagePlan')).toEqual([]);
    expect(resourcesOfType(cell, 'AWS::WAFv2::WebACLAssociation')).toHaveLength(1);
    // One gateway response per type: the authorizer's 401/403/500 and the envelope's others.
    const types = resourcesOfType(cell, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => props(r).ResponseType);
    expect(new Set(types).size).toBe(types.length);
    expect(types).toEqual(expect.arrayContaining(['UNAUTHORIZED', 'ACCESS_DENIED', 'AUTHORIZER_FAILURE']));
  });

  it('keeps the pooled ledger like a silo ledger: same keys, TTL, review index, PITR, deletion protection, retained, backed up', () => {
    const ledger = cell.Resources[ledgerId]!;
    const p = props(ledger) as Record<string, unknown>;
    expect(p.KeySchema).toEqual([
      { AttributeName: LEDGER_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: LEDGER_KEYS.sortKey, KeyType: 'RANGE' },
    ]);
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: LEDGER_KEYS.ttlAttribute, Enabled: true });
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect((p.GlobalSecondaryIndexes as unknown[]).length).toBe(1);
    expect(ledger.DeletionPolicy).toBe('Retain');
    expect(p.Tags).toEqual(expect.arrayContaining([{ Key: 'switchboard:backup', Value: 'ledger' }]));
  });

  it('runs the reconciliation and the review sweep on one schedule and has a cell dashboard', () => {
    const rules = resourcesOfType(cell, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const targets = JSON.stringify(props(rules[0]![1]).Targets);
    expect(targets).toContain('reconcile');
    expect(targets).toContain('sweep');
    const dashboards = resourcesOfType(cell, 'AWS::CloudWatch::Dashboard');
    expect(dashboards.map(([, d]) => props(d).DashboardName)).toEqual(['Switchboard-pool-1']);
  });

  it('does not reference the control plane stack', () => {
    expect(JSON.stringify(cell)).not.toMatch(/Switchboard-ControlPlane/);
    const deps = synth.assembly
      .getStackByName(CELL)
      .dependencies.map((d) => d.id)
      .filter((d) => !d.endsWith('.assets'));
    expect(deps).toEqual([PLATFORM_STACK_NAME]);
  });

  it('fails when the cell id is not pool-<n>, naming it and the pattern', () => {
    expect(() => new PoolCellStack(testApp(), 'Bad', { cellId: 'cell-1', platform: synth.built.platform })).toThrow(
      /PoolCellStack Bad: cellId: "cell-1" must match/,
    );
  });
});
