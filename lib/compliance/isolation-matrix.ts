/**
 * The isolation matrix: every principal of the app against every tenant's data, evaluated offline from the
 * synthesized templates with the IAM evaluator (iam-eval.ts).
 *
 * - Principals: every `AWS::IAM::Role` of every stack, with its identity policies (inline, `AWS::IAM::Policy`,
 *   customer-managed policies of the app, attached by `Roles` or `ManagedPolicyArns`) and its tags as principal tags;
 *   a pool cell's tenant-access role once per tenant of the cell (its session tag `switchboard:tenant`) and once
 *   without the tag. A principal belongs to the tenant its tenant tag (or session tag) names, else to the platform.
 * - Tenants and their data: a silo tenant's resources carry the tenant tag (SWITCHBOARD_TAGS.tenant): its ledger
 *   table (and indexes), key, state machine, topics, secrets and the IAM-authorized methods of its API; a pooled
 *   tenant's data is in the cell its stack's marker names (isolation-markers.ts): items under `T#<tenant>#` in the
 *   cell's table, and the cell's key under encryption context `tenant = <tenant>`.
 * - Probes: for each resource kind, the read and write actions that reach tenant data, and the administrative
 *   actions that change a resource or let the caller in later (policies, grants, code, passing a role), with the
 *   request context a caller would have (leading keys of every ledger item type, the encryption context, the principal's ARN and tags,
 *   TLS). Resource policies (key policies, topic policies, the API's policy, table and secret policies) apply with
 *   the identity policies, as IAM does for a principal of the same account (iam-eval.ts `decideAccess`).
 *
 * Expected: a cross-tenant cell (principal, tenant, kind) — the principal not the tenant's — is denied for every
 * probe, unless an exception of isolation-exceptions.ts covers it; an own cell (tenant, kind, access) is allowed:
 * each of the kind's own actions is allowed to at least one of the tenant's principals (least privilege: not every
 * role of a tenant needs every resource of it). Anything else is a finding: the principal, tenant, resource, action
 * and the statements that allow it.
 */
import { LEDGER_KEY_PREFIXES } from '../../lambda/shared/ledger-access';
import {
  POOL_TENANT_KEY_PREFIX,
  poolPartitionKey,
  TENANT_ENCRYPTION_CONTEXT_KEY,
  TENANT_SESSION_TAG,
} from '../../lambda/shared/pool-keys';
import { SWITCHBOARD_TAGS } from '../config/tags';
import { decideAccess, type IamRequest, type ResourcePolicyKind, type SourcedStatement } from './iam-eval';
import { ISOLATION_EXCEPTIONS, type IsolationException } from './isolation-exceptions';
import { RESOURCE_KINDS, type ResourceKind, SCAN_KEYS_ONLY } from './isolation-kinds';
import { POOL_CELL_METADATA, type PoolCellMarker } from './isolation-markers';
import {
  actionCovers,
  asArray,
  type CfnResourceJson,
  flatten,
  type StatementJson,
  statementsOf,
} from './template-json';
import { resolvedTags, type StackTemplate, TemplateResolver } from './template-resolver';

export { RESOURCE_KINDS, type ResourceKind, SCAN_KEYS_ONLY } from './isolation-kinds';
export type IsolationModel = 'silo' | 'pool';
export type Access = 'read' | 'write';

/** A principal of the matrix. */
export interface MatrixPrincipal {
  /** `<Stack/LogicalId>`, with ` session tenant=<id>` (or ` session without tenant tag`) for pool sessions. */
  readonly id: string;
  readonly stack: string;
  /** The role's name: the name its template sets, else `<Stack/LogicalId>`. */
  readonly roleName: string;
  readonly arn: string;
  /** Its region as the templates read it (`<AWS::Region>` when not known at synth). */
  readonly region: string;
  /** Its account as the templates read it (`<AWS::AccountId>` when not known at synth). */
  readonly account: string;
  /** The tenant it belongs to; undefined for platform principals. */
  readonly tenant?: string;
  /** Principal tags (role tags, then session tags). */
  readonly tags: Readonly<Record<string, string>>;
  /** Its part in a pool cell, when it has one. */
  readonly cellRole?: 'pooled-function' | 'tenant-access';
  /** Service principals its trust policy names. */
  readonly trustedServices: readonly string[];
  /** Attached policies the templates do not contain (AWS managed policies): its cells cannot be evaluated. */
  readonly unreadablePolicies: readonly string[];
  readonly identity: readonly SourcedStatement[];
}

/** One probe: a request for a tenant's resource. */
interface Probe {
  readonly action: string;
  /** How findings and exceptions name it, when the action alone would not say what it reaches. */
  readonly label?: string;
  readonly access: Access;
  /** An action the tenant's own principals must be allowed (the positive control). */
  readonly own: boolean;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  /** Only identity policies decide it (IAM actions on a role: its trust policy governs assuming it only). */
  readonly identityOnly?: boolean;
}

/**
 * Actions that change or remove a tenant's resource, or let the caller in later (a policy, a grant, code): probed on
 * every cross-tenant cell, never expected of the tenant's own roles.
 */
function administration(resource: string, actions: readonly string[], identityOnly = false): Probe[] {
  return actions.map((action) => ({
    action,
    access: 'write' as const,
    own: false,
    resource,
    context: {},
    ...(identityOnly ? { identityOnly } : {}),
  }));
}

/** A resource of a tenant, with its resource policy and probes. */
interface Target {
  readonly kind: ResourceKind;
  /** `<Stack/LogicalId>` of the resource. */
  readonly name: string;
  readonly policy?: { readonly kind: ResourcePolicyKind; readonly statements: readonly SourcedStatement[] };
  readonly probes: readonly Probe[];
}

/** A tenant and its data. */
interface TenantData {
  readonly tenant: string;
  readonly model: IsolationModel;
  /** Where its data lives: the silo stack or the pool cell's stack. */
  readonly stack: string;
  /** A tenant the matrix invented to probe a pool cell holding fewer than two tenants. */
  readonly probe: boolean;
  readonly targets: readonly Target[];
}

/** A cell that is not what isolation expects. */
export interface IsolationFinding {
  readonly problem: 'cross-tenant access allowed' | 'cross-tenant access not evaluable' | 'own access denied';
  /** The principal (own cells: the tenant's principals, joined). */
  readonly principal: string;
  readonly tenant: string;
  readonly model: IsolationModel;
  readonly kind: ResourceKind;
  readonly resource: string;
  readonly actions: readonly string[];
  /** The statements that allow it (`Stack/LogicalId#Sid`), or the unreadable policies, or nothing (own cells). */
  readonly statements: readonly string[];
}

/** Counts of one isolation model. */
export interface ModelSummary {
  readonly model: IsolationModel;
  readonly tenants: number;
  /** Cross-tenant cells: denied of total, besides the cells an exception covers. */
  readonly cross: { readonly denied: number; readonly total: number; readonly excepted: number };
  readonly own: { readonly allowed: number; readonly total: number };
}

/** An exception as applied: what it covered. */
export interface AppliedException {
  readonly id: string;
  readonly reason: string;
  readonly principals: readonly string[];
  readonly cells: number;
}

/** The matrix, as written into the compliance report. */
export interface IsolationMatrix {
  readonly principals: number;
  readonly tenants: ReadonlyArray<{
    readonly tenant: string;
    readonly model: IsolationModel;
    readonly stack: string;
    readonly probe: boolean;
  }>;
  readonly summary: readonly ModelSummary[];
  readonly exceptions: readonly AppliedException[];
  readonly findings: readonly IsolationFinding[];
  /** What the matrix does not cover, in words (shown in the report). */
  readonly notes: readonly string[];
}

const TENANT_TAG = SWITCHBOARD_TAGS.tenant;
/** Stand-in tenants of a pool cell holding fewer than two (the cell's policies do not name tenants). */
export const POOL_PROBE_TENANTS = ['probe-a', 'probe-a-b'] as const;

type Json = Record<string, unknown>;
const propsOf = (r: CfnResourceJson): Json => r.Properties ?? {};

/** Statements of a policy document with their source: `Stack/LogicalId#Sid` (or the index). */
function sourced(resolver: TemplateResolver, stack: string, id: string, doc: unknown, label = ''): SourcedStatement[] {
  const resolved = resolver.resolve(stack, doc);
  return statementsOf(resolved).map((statement: StatementJson, i) => ({
    statement,
    source: `${stack}/${id}${label}#${statement.Sid ?? i}`,
  }));
}

/** Every role's identity statements and unreadable attachments, by role ARN. */
function identityPolicies(resolver: TemplateResolver, stacks: readonly StackTemplate[]) {
  const byRoleName = new Map<string, SourcedStatement[]>();
  const managedByArn = new Map<string, SourcedStatement[]>();
  const add = (name: string, st: SourcedStatement[]) => byRoleName.set(name, [...(byRoleName.get(name) ?? []), ...st]);
  for (const s of stacks) {
    for (const [id, r] of Object.entries(s.template.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const st = sourced(resolver, s.stackName, id, propsOf(r).PolicyDocument);
      if (r.Type === 'AWS::IAM::ManagedPolicy') managedByArn.set(resolver.arnOf(s.stackName, id), st);
      for (const role of asArray(propsOf(r).Roles as unknown[])) add(resolver.text(s.stackName, role), st);
    }
  }
  return { byRoleName, managedByArn };
}

function principalsOf(
  resolver: TemplateResolver,
  stacks: readonly StackTemplate[],
  cells: readonly Cell[],
): MatrixPrincipal[] {
  const { byRoleName, managedByArn } = identityPolicies(resolver, stacks);
  const out: MatrixPrincipal[] = [];
  for (const s of stacks) {
    for (const [id, r] of Object.entries(s.template.Resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const p = propsOf(r);
      const name = resolver.physicalName(s.stackName, id);
      const identity: SourcedStatement[] = [...(byRoleName.get(name) ?? [])];
      for (const [i, pol] of asArray(p.Policies as Json[]).entries()) {
        identity.push(...sourced(resolver, s.stackName, id, pol.PolicyDocument, `.Policies[${i}]`));
      }
      const unreadable: string[] = [];
      for (const arn of asArray(p.ManagedPolicyArns as unknown[]).map((a) => resolver.text(s.stackName, a))) {
        const st = managedByArn.get(arn);
        if (st) identity.push(...st);
        else unreadable.push(arn);
      }
      const trust = statementsOf(resolver.resolve(s.stackName, p.AssumeRolePolicyDocument));
      const trustedServices = [
        ...new Set(
          trust.flatMap((t) =>
            asArray((t.Principal as { Service?: unknown } | undefined)?.Service as unknown[]).map(String),
          ),
        ),
      ];
      const tags = resolvedTags(resolver, s.stackName, r);
      const base = {
        stack: s.stackName,
        roleName: name,
        arn: resolver.arnOf(s.stackName, id),
        region: resolver.region(s.stackName),
        account: resolver.account(s.stackName),
        trustedServices,
        unreadablePolicies: unreadable,
        identity,
      };
      const cell = cells.find((c) => c.stack === s.stackName && c.marker.accessRole === id);
      if (!cell) {
        const pooledFunction = cells.some(
          (c) => c.stack === s.stackName && (c.marker.pooledFunctionRole === id || c.marker.sessionRoles?.includes(id)),
        );
        out.push({
          ...base,
          id: TemplateResolver.nameOf(s.stackName, id),
          tenant: tags[TENANT_TAG],
          tags,
          ...(pooledFunction ? { cellRole: 'pooled-function' as const } : {}),
        });
        continue;
      }
      // A pool cell's access role: one session per tenant, tagged with it, and one without the tag.
      for (const t of cell.tenants) {
        out.push({
          ...base,
          id: `${TemplateResolver.nameOf(s.stackName, id)} session ${TENANT_SESSION_TAG}=${t}`,
          tenant: t,
          tags: { ...tags, [TENANT_SESSION_TAG]: t },
          cellRole: 'tenant-access',
        });
      }
      const untagged = Object.fromEntries(Object.entries(tags).filter(([k]) => k !== TENANT_SESSION_TAG));
      out.push({
        ...base,
        id: `${TemplateResolver.nameOf(s.stackName, id)} session without ${TENANT_SESSION_TAG}`,
        tags: untagged,
        cellRole: 'tenant-access',
      });
    }
  }
  return out;
}

/** A pool cell found by its marker. */
interface Cell {
  readonly stack: string;
  readonly marker: PoolCellMarker;
  /** The tenants probed: the marker's, or probe tenants when it names fewer than two. */
  readonly tenants: readonly string[];
  readonly probes: boolean;
}

function cellsOf(stacks: readonly StackTemplate[]): Cell[] {
  return stacks.flatMap((s) => {
    const marker = s.template.Metadata?.[POOL_CELL_METADATA] as PoolCellMarker | undefined;
    if (!marker) return [];
    for (const field of ['ledgerTable', 'key', 'accessRole', 'pooledFunctionRole'] as const) {
      if (!s.template.Resources[marker[field]]) {
        throw new Error(
          `isolation matrix: ${s.stackName}'s ${POOL_CELL_METADATA} names ${field} ${marker[field]}, which it does not have`,
        );
      }
    }
    const known = [...new Set(marker.tenants ?? [])];
    const probes = known.length < 2;
    return [{ stack: s.stackName, marker, tenants: probes ? [...known, ...POOL_PROBE_TENANTS] : known, probes }];
  });
}

/** Leading keys of one probe item of each ledger item type, for a silo table or a tenant's pooled items. */
function ledgerKeys(pooledTenant?: string): string[] {
  return Object.values(LEDGER_KEY_PREFIXES).map((p) =>
    pooledTenant ? poolPartitionKey(pooledTenant, `${p}probe`) : `${p}probe`,
  );
}

function itemProbes(
  tableArn: string,
  indexArns: readonly string[],
  keyAttributes: readonly string[],
  pooledTenant?: string,
): Probe[] {
  const out: Probe[] = [];
  for (const key of ledgerKeys(pooledTenant)) {
    const context = { 'dynamodb:LeadingKeys': [key] };
    for (const [action, access, own] of [
      ['dynamodb:GetItem', 'read', true],
      ['dynamodb:Query', 'read', true],
      ['dynamodb:BatchGetItem', 'read', false],
      ['dynamodb:PutItem', 'write', true],
      ['dynamodb:UpdateItem', 'write', true],
      ['dynamodb:DeleteItem', 'write', false],
      ['dynamodb:BatchWriteItem', 'write', false],
    ] as const) {
      out.push({ action, access, own, resource: tableArn, context });
    }
    for (const index of indexArns)
      out.push({ action: 'dynamodb:Query', access: 'read', own: false, resource: index, context });
  }
  // Requests without leading keys: a Scan reads every tenant's items of a pooled table; projected to the key
  // attributes, it still lists every tenant's item keys.
  const keysOnly = { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES', 'dynamodb:Attributes': [...keyAttributes] };
  for (const resource of [tableArn, ...indexArns]) {
    out.push({ action: 'dynamodb:Scan', access: 'read', own: false, resource, context: {} });
    out.push({
      action: 'dynamodb:Scan',
      label: SCAN_KEYS_ONLY,
      access: 'read',
      own: false,
      resource,
      context: keysOnly,
    });
  }
  out.push(
    { action: 'dynamodb:PartiQLSelect', access: 'read', own: false, resource: tableArn, context: {} },
    { action: 'dynamodb:ExportTableToPointInTime', access: 'read', own: false, resource: tableArn, context: {} },
    ...administration(tableArn, [
      'dynamodb:PartiQLUpdate',
      'dynamodb:RestoreTableToPointInTime',
      'dynamodb:UpdateTable',
      'dynamodb:DeleteTable',
      'dynamodb:PutResourcePolicy',
    ]),
  );
  return out;
}

/** The key attributes of a table (its KeySchema). */
function keyAttributesOf(table: CfnResourceJson): string[] {
  return asArray(propsOf(table).KeySchema as Array<{ AttributeName?: unknown }>).map((k) => String(k.AttributeName));
}

function keyProbes(keyArn: string, pooledTenant?: string): Probe[] {
  const context: Probe['context'] = pooledTenant
    ? {
        [`kms:EncryptionContext:${TENANT_ENCRYPTION_CONTEXT_KEY}`]: pooledTenant,
        'kms:EncryptionContextKeys': [TENANT_ENCRYPTION_CONTEXT_KEY],
      }
    : {};
  return (
    [
      ['kms:Decrypt', 'read', true],
      ['kms:ReEncryptFrom', 'read', false],
      ['kms:Encrypt', 'write', true],
      ['kms:GenerateDataKey', 'write', true],
      ['kms:CreateGrant', 'write', false],
    ] as const
  )
    .map(([action, access, own]): Probe => ({ action, access, own, resource: keyArn, context }))
    .concat(administration(keyArn, ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey']));
}

function stateMachineProbes(arn: string): Probe[] {
  const execution = `${arn.replace(':stateMachine:', ':execution:')}:probe`;
  return [
    { action: 'states:StartExecution', access: 'write', own: true, resource: arn, context: {} },
    { action: 'states:StartSyncExecution', access: 'write', own: false, resource: arn, context: {} },
    { action: 'states:SendTaskSuccess', access: 'write', own: false, resource: arn, context: {} },
    { action: 'states:DescribeExecution', access: 'read', own: false, resource: execution, context: {} },
    { action: 'states:GetExecutionHistory', access: 'read', own: false, resource: execution, context: {} },
    ...administration(execution, ['states:StopExecution']),
    ...administration(arn, ['states:UpdateStateMachine', 'states:DeleteStateMachine']),
  ];
}

function topicProbes(arn: string): Probe[] {
  return [
    { action: 'sns:Publish', access: 'write', own: true, resource: arn, context: {} },
    { action: 'sns:Subscribe', access: 'read', own: false, resource: arn, context: {} },
    ...administration(arn, ['sns:SetTopicAttributes', 'sns:AddPermission', 'sns:DeleteTopic']),
  ];
}

/**
 * Assuming a role, with what the caller chooses itself: a source identity equal to the session name, and for a pool
 * cell's access role the tenant's session tag (and no other).
 */
function assumeProbes(roleArn: string, pooledTenant?: string): Probe[] {
  const context: Probe['context'] = {
    'sts:SourceIdentity': 'probe',
    'sts:RoleSessionName': 'probe',
    ...(pooledTenant
      ? { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: pooledTenant, 'aws:TagKeys': [TENANT_SESSION_TAG] }
      : {}),
  };
  return [
    { action: 'sts:AssumeRole', access: 'write', own: false, resource: roleArn, context },
    ...(pooledTenant
      ? [{ action: 'sts:TagSession', access: 'write' as const, own: false, resource: roleArn, context }]
      : []),
    // Passing the role to a function or rewriting its policies reaches what it reaches, without assuming it.
    ...administration(
      roleArn,
      ['iam:PassRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy'],
      true,
    ),
  ];
}

function trustOf(resolver: TemplateResolver, stack: string, id: string, role: CfnResourceJson) {
  return {
    kind: 'trust' as const,
    statements: sourced(resolver, stack, id, propsOf(role).AssumeRolePolicyDocument, '.AssumeRolePolicyDocument'),
  };
}

function secretProbes(arn: string): Probe[] {
  return [
    { action: 'secretsmanager:GetSecretValue', access: 'read', own: false, resource: arn, context: {} },
    { action: 'secretsmanager:PutSecretValue', access: 'write', own: false, resource: arn, context: {} },
    ...administration(arn, ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteSecret']),
  ];
}

/** Resource policies by the resource they govern (resolved ARN or name). */
function resourcePolicies(
  resolver: TemplateResolver,
  stacks: readonly StackTemplate[],
): Map<string, SourcedStatement[]> {
  const out = new Map<string, SourcedStatement[]>();
  const add = (target: string, st: SourcedStatement[]) => out.set(target, [...(out.get(target) ?? []), ...st]);
  for (const s of stacks) {
    for (const [id, r] of Object.entries(s.template.Resources)) {
      const p = propsOf(r);
      if (r.Type === 'AWS::SNS::TopicPolicy') {
        const st = sourced(resolver, s.stackName, id, p.PolicyDocument);
        for (const t of asArray(p.Topics as unknown[])) add(resolver.text(s.stackName, t), st);
      } else if (r.Type === 'AWS::SecretsManager::ResourcePolicy') {
        add(resolver.text(s.stackName, p.SecretId), sourced(resolver, s.stackName, id, p.ResourcePolicy));
      } else if (r.Type === 'AWS::Lambda::Permission') {
        const fn = functionArnOf(resolver, s.stackName, p.FunctionName);
        add(fn, [
          { statement: lambdaPermissionStatement(resolver, s.stackName, p, fn), source: `${s.stackName}/${id}` },
        ]);
      }
    }
  }
  return out;
}

/** A function named by name or ARN, as an ARN. */
function functionArnOf(resolver: TemplateResolver, stack: string, name: unknown): string {
  const text = resolver.text(stack, name);
  return text.startsWith('arn:')
    ? text
    : `arn:<AWS::Partition>:lambda:${resolver.region(stack)}:${resolver.account(stack)}:function:${text}`;
}

/**
 * An `AWS::Lambda::Permission` as the statement Lambda adds to the function's policy: its principal (a service, an
 * account, an ARN or everyone) and its source conditions.
 * https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
 */
function lambdaPermissionStatement(resolver: TemplateResolver, stack: string, p: Json, fn: string): StatementJson {
  const who = resolver.text(stack, p.Principal);
  const principal = who === '*' ? '*' : /\.amazonaws\.com(\.cn)?$/.test(who) ? { Service: who } : { AWS: who };
  const condition: Record<string, Record<string, string>> = {};
  const add = (op: string, key: string, v: unknown) => {
    if (v !== undefined) condition[op] = { ...condition[op], [key]: resolver.text(stack, v) };
  };
  add('ArnLike', 'aws:SourceArn', p.SourceArn);
  add('StringEquals', 'aws:SourceAccount', p.SourceAccount);
  add('StringEquals', 'aws:PrincipalOrgID', p.PrincipalOrgID);
  add('StringEquals', 'lambda:FunctionUrlAuthType', p.FunctionUrlAuthType);
  return {
    Effect: 'Allow',
    Principal: principal,
    Action: resolver.text(stack, p.Action),
    Resource: fn,
    ...(Object.keys(condition).length ? { Condition: condition } : {}),
  };
}

/** The IAM-authorized methods of a REST API, as execute-api ARNs (path parameters as `probe`). */
function iamMethodArns(
  resolver: TemplateResolver,
  s: StackTemplate,
  apiId: string,
): Array<{ arn: string; method: string }> {
  const res = s.template.Resources;
  const refersTo = (v: unknown, id: string) => JSON.stringify(v) === JSON.stringify({ Ref: id });
  const pathOf = (resourceId: unknown): string | undefined => {
    const parts: string[] = [];
    let cur = resourceId;
    for (let depth = 0; depth < 64; depth++) {
      const ref = (cur as { Ref?: unknown })?.Ref;
      if (typeof ref !== 'string') {
        const root = (cur as { 'Fn::GetAtt'?: unknown[] })?.['Fn::GetAtt'];
        return Array.isArray(root) && root[0] === apiId ? parts.reverse().join('/') : undefined;
      }
      const r = res[ref];
      if (r?.Type !== 'AWS::ApiGateway::Resource') return undefined;
      const part = String(propsOf(r).PathPart);
      parts.push(/^\{.+\}$/.test(part) ? 'probe' : part);
      cur = propsOf(r).ParentId;
    }
    return undefined;
  };
  const stages = Object.entries(res)
    .filter(([, r]) => r.Type === 'AWS::ApiGateway::Stage' && refersTo(propsOf(r).RestApiId, apiId))
    .map(([, r]) => resolver.text(s.stackName, propsOf(r).StageName));
  const base = `arn:<AWS::Partition>:execute-api:${resolver.region(s.stackName)}:${resolver.account(s.stackName)}:${resolver.text(s.stackName, { Ref: apiId })}`;
  const out: Array<{ arn: string; method: string }> = [];
  for (const r of Object.values(res)) {
    const p = propsOf(r);
    if (r.Type !== 'AWS::ApiGateway::Method' || !refersTo(p.RestApiId, apiId) || p.AuthorizationType !== 'AWS_IAM')
      continue;
    const path = pathOf(p.ResourceId);
    if (path === undefined) continue;
    for (const stage of stages)
      out.push({ arn: `${base}/${stage}/${p.HttpMethod}/${path}`, method: String(p.HttpMethod) });
  }
  return out;
}

/** A REST API's resource policy, its `execute-api:/…` short forms expanded to the API's ARNs. */
function apiPolicy(resolver: TemplateResolver, s: StackTemplate, apiId: string): SourcedStatement[] {
  const policy = propsOf(s.template.Resources[apiId]!).Policy;
  if (!policy) return [];
  const base = `arn:<AWS::Partition>:execute-api:${resolver.region(s.stackName)}:${resolver.account(s.stackName)}:${resolver.text(s.stackName, { Ref: apiId })}/`;
  const expand = (v: unknown) =>
    asArray(v as unknown[]).map((r) => (typeof r === 'string' ? r.replace(/^execute-api:\//, base) : r));
  return sourced(resolver, s.stackName, apiId, policy).map(({ statement, source }) => ({
    source,
    statement: {
      ...statement,
      ...(statement.Resource !== undefined ? { Resource: expand(statement.Resource) } : {}),
      ...(statement.NotResource !== undefined ? { NotResource: expand(statement.NotResource) } : {}),
    },
  }));
}

function tenantsOf(resolver: TemplateResolver, stacks: readonly StackTemplate[], cells: readonly Cell[]): TenantData[] {
  const policies = resourcePolicies(resolver, stacks);
  const silo = new Map<string, { stack: string; targets: Target[] }>();
  const pooledResources = new Set(
    cells.flatMap((c) =>
      [
        c.marker.ledgerTable,
        c.marker.key,
        c.marker.accessRole,
        c.marker.pooledFunctionRole,
        ...(c.marker.sessionRoles ?? []),
      ].map((id) => `${c.stack}/${id}`),
    ),
  );
  for (const s of stacks) {
    for (const [id, r] of Object.entries(s.template.Resources)) {
      const tenant = resolvedTags(resolver, s.stackName, r)[TENANT_TAG];
      if (!tenant || pooledResources.has(`${s.stackName}/${id}`)) continue;
      const name = TemplateResolver.nameOf(s.stackName, id);
      const target = targetOf(resolver, policies, s, id, r, name);
      if (!target) continue;
      const entry = silo.get(tenant) ?? { stack: s.stackName, targets: [] };
      entry.targets.push(target);
      silo.set(tenant, entry);
    }
  }
  const out: TenantData[] = [...silo].map(([tenant, d]) => ({
    tenant,
    model: 'silo',
    stack: d.stack,
    probe: false,
    targets: d.targets,
  }));
  for (const c of cells) {
    const s = resolver.stack(c.stack);
    const tableArn = resolver.arnOf(c.stack, c.marker.ledgerTable);
    const indexes = indexArnsOf(tableArn, s.template.Resources[c.marker.ledgerTable]!);
    const tablePolicy = propsOf(s.template.Resources[c.marker.ledgerTable]!).ResourcePolicy as Json | undefined;
    const keyPolicy = sourced(resolver, c.stack, c.marker.key, propsOf(s.template.Resources[c.marker.key]!).KeyPolicy);
    for (const t of c.tenants) {
      out.push({
        tenant: t,
        model: 'pool',
        stack: c.stack,
        probe: !(c.marker.tenants ?? []).includes(t),
        targets: [
          {
            kind: 'items',
            name: TemplateResolver.nameOf(c.stack, c.marker.ledgerTable),
            policy: tablePolicy
              ? {
                  kind: 'resource',
                  statements: sourced(resolver, c.stack, c.marker.ledgerTable, tablePolicy.PolicyDocument),
                }
              : undefined,
            probes: itemProbes(tableArn, indexes, keyAttributesOf(s.template.Resources[c.marker.ledgerTable]!), t),
          },
          {
            kind: 'key',
            name: TemplateResolver.nameOf(c.stack, c.marker.key),
            policy: { kind: 'key', statements: keyPolicy },
            probes: keyProbes(resolver.arnOf(c.stack, c.marker.key), t),
          },
          {
            kind: 'roles',
            name: TemplateResolver.nameOf(c.stack, c.marker.accessRole),
            policy: trustOf(resolver, c.stack, c.marker.accessRole, s.template.Resources[c.marker.accessRole]!),
            probes: assumeProbes(resolver.arnOf(c.stack, c.marker.accessRole), t),
          },
        ],
      });
    }
  }
  return out.sort((a, b) => a.model.localeCompare(b.model) || a.tenant.localeCompare(b.tenant));
}

function indexArnsOf(tableArn: string, table: CfnResourceJson): string[] {
  const p = propsOf(table);
  return [...asArray(p.GlobalSecondaryIndexes as Json[]), ...asArray(p.LocalSecondaryIndexes as Json[])].map(
    (i) => `${tableArn}/index/${String(i.IndexName)}`,
  );
}

function targetOf(
  resolver: TemplateResolver,
  policies: Map<string, SourcedStatement[]>,
  s: StackTemplate,
  id: string,
  r: CfnResourceJson,
  name: string,
): Target | undefined {
  const stack = s.stackName;
  switch (r.Type) {
    case 'AWS::DynamoDB::Table': {
      const arn = resolver.arnOf(stack, id);
      const rp = propsOf(r).ResourcePolicy as Json | undefined;
      return {
        kind: 'items',
        name,
        policy: rp ? { kind: 'resource', statements: sourced(resolver, stack, id, rp.PolicyDocument) } : undefined,
        probes: itemProbes(arn, indexArnsOf(arn, r), keyAttributesOf(r)),
      };
    }
    case 'AWS::KMS::Key':
      return {
        kind: 'key',
        name,
        policy: { kind: 'key', statements: sourced(resolver, stack, id, propsOf(r).KeyPolicy) },
        probes: keyProbes(resolver.arnOf(stack, id)),
      };
    case 'AWS::IAM::Role':
      return {
        kind: 'roles',
        name,
        policy: trustOf(resolver, stack, id, r),
        probes: assumeProbes(resolver.arnOf(stack, id)),
      };
    case 'AWS::StepFunctions::StateMachine':
      return { kind: 'state-machine', name, probes: stateMachineProbes(resolver.arnOf(stack, id)) };
    case 'AWS::SNS::Topic': {
      const arn = resolver.text(stack, { Ref: id });
      const st = policies.get(arn);
      return {
        kind: 'topics',
        name,
        policy: st ? { kind: 'resource', statements: st } : undefined,
        probes: topicProbes(arn),
      };
    }
    case 'AWS::Lambda::Function': {
      const arn = resolver.arnOf(stack, id);
      const st = policies.get(arn);
      return {
        kind: 'functions',
        name,
        policy: st ? { kind: 'resource', statements: st } : undefined,
        probes: [
          { action: 'lambda:InvokeFunction', access: 'write', own: false, resource: arn, context: {} },
          ...administration(arn, [
            'lambda:UpdateFunctionCode',
            'lambda:UpdateFunctionConfiguration',
            'lambda:AddPermission',
          ]),
        ],
      };
    }
    case 'AWS::SecretsManager::Secret': {
      const arn = resolver.text(stack, { Ref: id });
      const st = policies.get(arn);
      return {
        kind: 'secrets',
        name,
        policy: st ? { kind: 'resource', statements: st } : undefined,
        probes: secretProbes(arn),
      };
    }
    case 'AWS::ApiGateway::RestApi': {
      const methods = iamMethodArns(resolver, s, id);
      if (methods.length === 0) return undefined; // API-key or authorizer routes: not isolated by IAM
      return {
        kind: 'api',
        name,
        policy: { kind: 'resource', statements: apiPolicy(resolver, s, id) },
        probes: methods.map((m) => ({
          action: 'execute-api:Invoke',
          access: m.method === 'GET' ? 'read' : 'write',
          own: true,
          resource: m.arn,
          context: {},
        })),
      };
    }
    default:
      return undefined;
  }
}

/** Statements that may apply to `action`, by policy (most statements of a policy name other actions). */
const byAction = new WeakMap<readonly SourcedStatement[], Map<string, readonly SourcedStatement[]>>();
function forAction(statements: readonly SourcedStatement[], action: string): readonly SourcedStatement[] {
  let index = byAction.get(statements);
  if (!index) {
    index = new Map();
    byAction.set(statements, index);
  }
  let found = index.get(action);
  if (!found) {
    found = statements.filter(({ statement: st }) =>
      st.Action !== undefined
        ? asArray(st.Action).some((a) => actionCovers(flatten(a), action))
        : st.NotAction === undefined || !asArray(st.NotAction).some((a) => actionCovers(flatten(a), action)),
    );
    index.set(action, found);
  }
  return found;
}

/** The request context a principal brings to every request (built once per principal). */
const principalContexts = new WeakMap<MatrixPrincipal, Readonly<Record<string, string>>>();
function principalContext(p: MatrixPrincipal): Readonly<Record<string, string>> {
  let found = principalContexts.get(p);
  if (!found) {
    found = {
      'aws:PrincipalArn': p.arn,
      'aws:PrincipalAccount': p.account,
      'aws:PrincipalType': 'AssumedRole',
      'kms:CallerAccount': p.account,
      'aws:SecureTransport': 'true',
      ...Object.fromEntries(Object.entries(p.tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
    };
    principalContexts.set(p, found);
  }
  return found;
}

function requestOf(p: MatrixPrincipal, probe: Probe): IamRequest {
  return {
    action: probe.action,
    resource: probe.resource,
    principal: p.arn,
    context: { ...principalContext(p), ...probe.context },
  };
}

/** Options of {@link buildIsolationMatrix}. */
export interface IsolationMatrixOptions {
  /** @default ISOLATION_EXCEPTIONS */
  readonly exceptions?: readonly IsolationException[];
}

/** Evaluates the matrix over the app's templates. */
export function buildIsolationMatrix(
  given: readonly StackTemplate[],
  options: IsolationMatrixOptions = {},
): IsolationMatrix {
  const exceptions = options.exceptions ?? ISOLATION_EXCEPTIONS;
  // A stack without resources synthesizes without a Resources section.
  const stacks = given.map((s) => ({ ...s, template: { ...s.template, Resources: s.template.Resources ?? {} } }));
  const resolver = new TemplateResolver(stacks);
  const cells = cellsOf(stacks);
  const tenants = tenantsOf(resolver, stacks, cells);
  const principals = principalsOf(resolver, stacks, cells);
  const findings: IsolationFinding[] = [];
  const applied = new Map(exceptions.map((e) => [e.id, { principals: new Set<string>(), cells: 0 }]));
  const summary = new Map<
    IsolationModel,
    { tenants: number; crossDenied: number; crossTotal: number; excepted: number; ownAllowed: number; ownTotal: number }
  >();
  const sum = (m: IsolationModel) => {
    const found = summary.get(m);
    if (found) return found;
    const fresh = { tenants: 0, crossDenied: 0, crossTotal: 0, excepted: 0, ownAllowed: 0, ownTotal: 0 };
    summary.set(m, fresh);
    return fresh;
  };
  const decideFor = (p: MatrixPrincipal, target: Target, probe: Probe) =>
    decideAccess(
      forAction(p.identity, probe.action),
      target.policy && !probe.identityOnly
        ? { kind: target.policy.kind, statements: forAction(target.policy.statements, probe.action) }
        : undefined,
      requestOf(p, probe),
    );

  for (const t of tenants) {
    const s = sum(t.model);
    s.tenants++;
    const own = principals.filter((p) => p.tenant === t.tenant);
    for (const kind of RESOURCE_KINDS) {
      const targets = t.targets.filter((x) => x.kind === kind);
      if (targets.length === 0) continue;
      // Own cells: (tenant, kind, access); each own action allowed to one of the tenant's principals.
      for (const access of ['read', 'write'] as const) {
        const actions = [
          ...new Set(targets.flatMap((x) => x.probes.filter((p) => p.own && p.access === access).map((p) => p.action))),
        ];
        if (actions.length === 0) continue;
        s.ownTotal++;
        const missing = actions.filter(
          (a) =>
            !targets.some((x) =>
              x.probes.some((probe) => probe.action === a && own.some((p) => decideFor(p, x, probe).allowed)),
            ),
        );
        if (missing.length === 0) s.ownAllowed++;
        else {
          findings.push({
            problem: 'own access denied',
            principal: own.map((p) => p.id).join(', ') || '(no principal of the tenant)',
            tenant: t.tenant,
            model: t.model,
            kind,
            resource: targets.map((x) => x.name).join(', '),
            actions: missing,
            statements: [],
          });
        }
      }
      // Cross-tenant cells: (principal, tenant, kind), every probe denied.
      for (const p of principals) {
        if (p.tenant === t.tenant) continue;
        const allowed = new Map<string, { actions: Set<string>; by: Set<string> }>();
        for (const x of targets) {
          for (const probe of x.probes) {
            const d = decideFor(p, x, probe);
            if (!d.allowed) continue;
            const a = allowed.get(x.name) ?? { actions: new Set(), by: new Set() };
            a.actions.add(probe.label ?? probe.action);
            for (const b of d.by) a.by.add(b);
            allowed.set(x.name, a);
          }
        }
        const unreadable = p.unreadablePolicies.length > 0;
        if (allowed.size === 0 && !unreadable) {
          s.crossTotal++;
          s.crossDenied++;
          continue;
        }
        const allowedActions = [...allowed.values()].flatMap((a) => [...a.actions]);
        const exception = exceptions.find(
          (e) =>
            e.principal(p) &&
            (e.kinds === undefined || e.kinds.includes(kind)) &&
            (e.actions === undefined || (!unreadable && allowedActions.every((a) => e.actions!.includes(a)))),
        );
        if (exception) {
          s.excepted++;
          const used = applied.get(exception.id)!;
          used.principals.add(p.id);
          used.cells++;
          continue;
        }
        s.crossTotal++;
        for (const [resource, a] of allowed) {
          findings.push({
            problem: 'cross-tenant access allowed',
            principal: p.id,
            tenant: t.tenant,
            model: t.model,
            kind,
            resource,
            actions: [...a.actions].sort(),
            statements: [...a.by].sort(),
          });
        }
        if (allowed.size === 0) {
          findings.push({
            problem: 'cross-tenant access not evaluable',
            principal: p.id,
            tenant: t.tenant,
            model: t.model,
            kind,
            resource: targets.map((x) => x.name).join(', '),
            actions: [],
            statements: [...p.unreadablePolicies],
          });
        }
      }
    }
  }
  const notes = [
    'Principals are the roles of the templates; the pool tenant-access role is probed once per tenant of its cell (session tag) and once without the tag. Users, groups and other accounts are not principals of the app.',
    'Key probes are direct calls (no kms:ViaService): use of a key through DynamoDB or AWS Backup needs the table, which the items cells probe.',
    `A pooled tenant's data is its items (partition keys ${POOL_TENANT_KEY_PREFIX}<tenant>#…) and its encryption context in the cell's table and key; the cell's API, topics and workflow are shared and isolated by the authorizer and the per-tenant session, not by resource.`,
    "Roles cells: assuming a tenant's role (a pooled tenant's: the cell's access role with its tag), with a source identity and session tags of the caller's choosing: a role that could assume another tenant's role would reach what that role reaches.",
    "Functions cells: invoking a tenant's functions (its identity policies and the functions' Lambda permissions, which name AWS services with a source); a function acts with its tenant's role.",
    'API cells are the IAM-authorized methods (the review API); routes behind an API key or the pool authorizer are isolated by the key, not by IAM.',
    'Permission boundaries and service control policies are not in the templates; both can only narrow what the matrix reports as allowed.',
  ];
  if (cells.some((c) => c.probes)) {
    notes.push(
      `Pool cells holding fewer than two tenants at synth are probed with stand-in tenants (${POOL_PROBE_TENANTS.join(', ')}): their policies name no tenant, so any two ids show what any two tenants get.`,
    );
  }
  return {
    principals: principals.length,
    tenants: tenants.map(({ tenant, model, stack, probe }) => ({ tenant, model, stack, probe })),
    summary: (['silo', 'pool'] as const)
      .filter((m) => summary.has(m))
      .map((m) => {
        const s = summary.get(m)!;
        return {
          model: m,
          tenants: s.tenants,
          cross: { denied: s.crossDenied, total: s.crossTotal, excepted: s.excepted },
          own: { allowed: s.ownAllowed, total: s.ownTotal },
        };
      }),
    exceptions: exceptions.map((e) => {
      const used = applied.get(e.id)!;
      return { id: e.id, reason: e.reason, principals: [...used.principals].sort(), cells: used.cells };
    }),
    findings: findings.sort(
      (a, b) =>
        a.problem.localeCompare(b.problem) ||
        a.principal.localeCompare(b.principal) ||
        a.tenant.localeCompare(b.tenant) ||
        a.kind.localeCompare(b.kind) ||
        a.resource.localeCompare(b.resource),
    ),
    notes,
  };
}
