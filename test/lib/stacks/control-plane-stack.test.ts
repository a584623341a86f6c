/**
 * The control plane as `npx cdk synth` builds it (the repository's tenants and cdk.json): its API, the registry,
 * what its role may do in each cell, and the registrations of the silo tenants.
 */
import { Stack } from 'aws-cdk-lib';
import { CONTROL_PLANE_ENV } from '../../../lambda/control-plane/config';
import { LEDGER_KEYS } from '../../../lambda/shared/ledger-schema';
import { REGISTRY_TABLE_NAME, SILO_REGISTRATION } from '../../../lambda/shared/pool-runtime';
import {
  REGISTRY_BY_CELL_ATTRIBUTES,
  REGISTRY_TABLE,
  REGISTRY_TABLE_ENV,
} from '../../../lambda/shared/registry-schema';
import { ControlPlane } from '../../../lib/constructs/control-plane/control-plane';
import { TenantRegistry } from '../../../lib/constructs/control-plane/tenant-registry';
import { PLATFORM_STACK_NAME } from '../../../lib/switchboard';
import { decide, type IamRequest } from '../../support/iam-eval';
import { synthSwitchboard } from '../../support/synth';
import { flatten, props, resourcesOfType, roleStatements, type TemplateLike, testApp } from '../template-utils';

const synth = synthSwitchboard({ compliance: false });
const STACK = 'Switchboard-ControlPlane';
const cp = synth.template(STACK) as unknown as TemplateLike;
const cell = synth.template('Switchboard-Pool-1') as unknown as TemplateLike;
const platform = synth.template(PLATFORM_STACK_NAME) as unknown as TemplateLike;

const [fnId, fn] = resourcesOfType(cp, 'AWS::Lambda::Function')[0]!;
const fnProps = props(fn) as { Role: unknown; Environment: { Variables: Record<string, unknown> } };
const roleId = flatten(fnProps.Role).replace(/^<|\.Arn>$/g, '');
const statements = roleStatements(cp, roleId, platform, PLATFORM_STACK_NAME);
const asControlPlane = (req: IamRequest) => decide(statements, req);

const [REST_API, TABLE, ROLE] = ['AWS::ApiGateway::RestApi', 'AWS::DynamoDB::Table', 'AWS::IAM::Role'];

/** How the control plane may read a cell resource's attribute: a weak reference to any cell output of it. */
function cellOutputs(type: string, logicalIdPrefix: string, attr?: string): string[] {
  const ids = resourcesOfType(cell, type)
    .map(([id]) => id)
    .filter((k) => k.startsWith(logicalIdPrefix));
  expect(ids).toHaveLength(1);
  const want = attr ? `<${ids[0]}.${attr}>` : `<${ids[0]}>`;
  const names = Object.entries(cell.Outputs ?? {})
    .filter(([, o]) => flatten(o.Value) === want)
    .map(([name]) => `<Output:Switchboard-Pool-1.${name}>`);
  expect(names.length).toBeGreaterThan(0);
  return names;
}

/** The one output of a cell resource's attribute. */
function cellOutput(type: string, logicalIdPrefix: string, attr?: string): string {
  const names = cellOutputs(type, logicalIdPrefix, attr);
  expect(names).toHaveLength(1);
  return names[0]!;
}

describe('Switchboard-ControlPlane', () => {
  it('authorizes every method of its API with IAM (SigV4), and refuses other accounts in the resource policy', () => {
    const methods = resourcesOfType(cp, 'AWS::ApiGateway::Method').map(([, m]) => props(m));
    expect(methods.map((m) => m.HttpMethod).sort()).toEqual(['DELETE', 'GET', 'GET', 'PATCH', 'POST', 'POST']);
    // POST /v1/tenants/{id}/move: a resource `move` under `{id}`, its id path parameter required.
    const resources = resourcesOfType(cp, 'AWS::ApiGateway::Resource');
    const pathPart = (id: string) => props(resources.find(([k]) => k === id)![1]).PathPart;
    const [moveId] = resources.find(([, r]) => props(r).PathPart === 'move')!;
    const parentOf = (id: string) =>
      flatten(props(resources.find(([k]) => k === id)![1]).ParentId).replace(/^<|>$/g, '');
    expect(pathPart(parentOf(moveId))).toBe('{id}');
    expect(pathPart(parentOf(parentOf(moveId)))).toBe('tenants');
    const move = methods.find((m) => flatten(m.ResourceId) === `<${moveId}>`);
    expect(move).toMatchObject({
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      RequestParameters: { 'method.request.path.id': true },
    });
    for (const m of methods) {
      expect(m.AuthorizationType).toBe('AWS_IAM');
      expect(m.RequestValidatorId).toBeDefined();
    }
    const [, api] = resourcesOfType(cp, 'AWS::ApiGateway::RestApi')[0]!;
    const policy = JSON.stringify(props(api).Policy);
    expect(policy).toContain('"aws:PrincipalAccount"');
    expect(resourcesOfType(cp, 'AWS::WAFv2::WebACLAssociation')).toHaveLength(1);
    const [, stage] = resourcesOfType(cp, 'AWS::ApiGateway::Stage')[0]!;
    expect(props(stage).AccessLogSetting).toBeDefined();
    expect(props(stage).TracingEnabled).toBe(true);
  });

  it('keeps the registry under its fixed name, with its key schema, byKind and byCell indexes, a key of its own, PITR, retained', () => {
    const [, table] = resourcesOfType(cp, 'AWS::DynamoDB::Table')[0]!;
    const p = props(table) as Record<string, unknown>;
    expect(p.TableName).toBe(REGISTRY_TABLE_NAME);
    expect(p.KeySchema).toEqual([
      { AttributeName: REGISTRY_TABLE.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: REGISTRY_TABLE.sortKey.name, KeyType: 'RANGE' },
    ]);
    const indexes = p.GlobalSecondaryIndexes as Array<{ IndexName: string; Projection: unknown }>;
    expect(indexes.map((i) => i.IndexName)).toEqual([REGISTRY_TABLE.byKindIndex.name, REGISTRY_TABLE.byCellIndex.name]);
    // A cell lists its tenants from a few projected bytes each, not their whole items.
    expect(indexes[1]!.Projection).toEqual({
      ProjectionType: 'INCLUDE',
      NonKeyAttributes: [...REGISTRY_BY_CELL_ATTRIBUTES],
    });
    expect((p.SSESpecification as { SSEType: string }).SSEType).toBe('KMS');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(cp.Outputs?.RegistryTable).toBeDefined();
    expect(cp.Outputs?.ApiUrl).toBeDefined();
  });

  it('tells its function the registry and every cell: id, capacity, API, stage, ledger and tenant-access role', () => {
    const env = fnProps.Environment.Variables;
    expect(flatten(env[REGISTRY_TABLE_ENV])).toMatch(/^<RegistryTable/);
    const cells = flatten(env[CONTROL_PLANE_ENV.cells]);
    expect(cells).toContain('"id":"pool-1"');
    expect(cells).toMatch(/"capacity":\d+/);
    const entry = JSON.parse(cells) as Array<Record<string, unknown>>;
    expect(entry).toHaveLength(1);
    expect(cellOutputs(REST_API, 'Api')).toContain(entry[0]!.restApiId);
    expect(cellOutputs(TABLE, 'DataLedger')).toContain(entry[0]!.ledgerTable);
    expect(cellOutputs(ROLE, 'InferenceTenantAccessRole', 'Arn')).toContain(entry[0]!.tenantAccessRoleArn);
    expect(cells).toContain('"stage":"live"');
  });

  it("may list a cell ledger's keys only (pk, sk), flush the cell's authorizer cache and assume its tenant-access role", () => {
    const ledger = cellOutput(TABLE, 'DataLedger', 'Arn');
    const scan = (context: IamRequest['context']) =>
      asControlPlane({ action: 'dynamodb:Scan', resource: ledger, context });
    const keysOnly = {
      'dynamodb:Select': 'SPECIFIC_ATTRIBUTES',
      'dynamodb:Attributes': [LEDGER_KEYS.partitionKey, LEDGER_KEYS.sortKey],
    };
    expect(scan(keysOnly)).toBe('allow');
    expect(scan({ 'dynamodb:Select': 'ALL_ATTRIBUTES' })).toBe('none');
    expect(scan({ ...keysOnly, 'dynamodb:Attributes': [LEDGER_KEYS.partitionKey, 'output'] })).toBe('none');
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:PutItem']) {
      expect([action, asControlPlane({ action, resource: ledger })]).toEqual([action, 'none']);
    }
    const api = cellOutput(REST_API, 'Api');
    expect(
      asControlPlane({
        action: 'apigateway:DELETE',
        resource: `arn:<AWS::Partition>:apigateway:us-east-1::/restapis/${api}/stages/live/cache/authorizers`,
      }),
    ).toBe('allow');
    expect(
      asControlPlane({
        action: 'apigateway:DELETE',
        resource: `arn:<AWS::Partition>:apigateway:us-east-1::/restapis/${api}`,
      }),
    ).toBe('none');
    const access = cellOutput(ROLE, 'InferenceTenantAccessRole', 'Arn');
    expect(asControlPlane({ action: 'sts:AssumeRole', resource: access })).toBe('allow');
    expect(asControlPlane({ action: 'sts:TagSession', resource: access })).toBe('allow');
  });

  it('registers every silo tenant file (and no pooled one) through its own function', () => {
    const regs = resourcesOfType(cp, SILO_REGISTRATION.resourceType).map(([, r]) => props(r));
    const ids = regs.map((r) => r[SILO_REGISTRATION.props.tenantId]).sort();
    expect(ids).toEqual([...synth.built.tenants.keys()].sort());
    expect(ids).not.toContain('hooli');
    for (const r of regs) {
      expect(flatten(r.ServiceToken)).toBe(`<${fnId}.Arn>`);
      const doc = JSON.parse(r[SILO_REGISTRATION.props.document] as string) as { id: string };
      expect(doc.id).toBe(r[SILO_REGISTRATION.props.tenantId]);
    }
  });

  it('fails without a pool cell (the control plane has nowhere to place a pooled tenant)', () => {
    const stack = new Stack(testApp(), 'Cp', { env: { region: 'us-east-1' } });
    const registry = new TenantRegistry(stack, 'Registry');
    expect(() => new ControlPlane(stack, 'ControlPlane', { registry, cells: [], sharedPolicies: [] })).toThrow(
      'ControlPlane Cp/ControlPlane: cells: at least one pool cell',
    );
  });
});
