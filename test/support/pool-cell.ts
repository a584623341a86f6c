/**
 * A pool cell on the local parts, for the pooled inference function's tests and benchmark:
 *
 * - the cell's pooled ledger table (key schema and review index of lambda/shared/ledger-schema.ts and
 *   review-schema.ts) and a tenant registry table (REGISTRY_TABLE), on dynalite;
 * - tenants onboarded through the control plane's own handler (POST /v1/tenants; suspend with PATCH), so their
 *   registry items and API keys are the ones the control plane writes;
 * - the STS stand-in issuing the cell's tenant-access sessions, tagged with the tenant, to the function's own
 *   credentials only;
 * - an IAM gate for the ledger table: dynalite checks no permissions, so every call to the table through the fault
 *   proxy is evaluated (test/support/iam-eval.ts) against the synthesized policy of the PoolTenantAccess construct,
 *   with the tag of the session that signed it as `aws:PrincipalTag/switchboard:tenant` and the call's leading keys
 *   as `dynamodb:LeadingKeys`, and refused with AccessDeniedException as IAM would. A call signed with anything but a
 *   tenant session (the function's own key) gets no tag, so the policy refuses it too.
 */

import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { PoolCell as ControlPlaneCell } from '../../lambda/control-plane/core/ports';
import { LEDGER_KEYS } from '../../lambda/shared/ledger-schema';
import { TENANT_SESSION_TAG, tenantOfPoolKey } from '../../lambda/shared/pool-keys';
import { REVIEW_GSI } from '../../lambda/shared/review-schema';
import { STACK_ONLY_SETTINGS } from '../../lambda/shared/tenant-file/resolution-rules';
import { ManagedPolicyRole } from '../../lib/constructs/iam/managed-policy-role';
import { PoolTenantAccess } from '../../lib/constructs/pool/tenant-access-role';
import { createRegistryTable, RegistryHarness } from '../lambda/control-plane/registry-harness';
import { roleStatements, type StatementJson, type TemplateLike, testApp } from '../lib/template-utils';
import { ACCESS_DENIED, type DynamoCall, type DynamoFault, type DynamoFaultProxy } from './dynamo-fault-proxy';
import { allows } from './iam-eval';
import { createLedgerTable } from './ledger-table';
import { StsStandIn } from './sts-standin';

export const POOL_CELL_ID = 'pool-1';
export const POOL_REGION = 'us-east-1';
/** The pooled function's own credentials (the only caller the STS stand-in accepts). */
export const FUNCTION_CREDENTIALS = { accessKeyId: 'AKIDPOOLFUNCTION', secretAccessKey: 'pool-function-secret' };
export const ACCESS_ROLE_ARN = 'arn:aws:iam::111111111111:role/switchboard-pool-1-tenant-access';

/** The tenant-access role's statements as synthesized, and the table ARN they name. */
interface AccessPolicy {
  readonly statements: StatementJson[];
  readonly tableArn: string;
}
let accessPolicy: AccessPolicy | undefined;

/** Synthesizes the PoolTenantAccess construct once per test file (as test/lib/constructs/pool does). */
export function poolAccessPolicy(): AccessPolicy {
  if (accessPolicy) return accessPolicy;
  const stack = new Stack(testApp(), 'PoolCell', { env: { account: '111111111111', region: POOL_REGION } });
  const table = new dynamodb.Table(stack, 'Ledger', {
    partitionKey: { name: LEDGER_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: LEDGER_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
  });
  const fn = new ManagedPolicyRole(stack, 'PooledFunction', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'pooled inference function',
  });
  const access = new PoolTenantAccess(stack, 'TenantAccess', {
    table,
    key: new kms.Key(stack, 'PoolKey'),
    pooledFunctionRole: fn.role,
    cellId: POOL_CELL_ID,
  });
  access.grantAssume(fn.grantPrincipal);
  const template = Template.fromStack(stack).toJSON() as TemplateLike;
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  accessPolicy = {
    statements: roleStatements(template, id(access.role as iam.Role), template, 'PoolCell'),
    tableArn: `<${id(table)}.Arn>`,
  };
  return accessPolicy;
}

/** The partition key values a call names (IAM's `dynamodb:LeadingKeys`); undefined when it names none (a Scan). */
export function leadingKeysOf(call: DynamoCall): string[] | undefined {
  const b = call.body as {
    Key?: Record<string, { S?: string }>;
    Item?: Record<string, { S?: string }>;
    IndexName?: string;
    KeyConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, { S?: string }>;
  };
  const pk = LEDGER_KEYS.partitionKey;
  if (b.Key?.[pk]?.S !== undefined) return [b.Key[pk].S];
  if (b.Item?.[pk]?.S !== undefined) return [b.Item[pk].S];
  if (call.operation === 'Query' && b.KeyConditionExpression) {
    const partition = b.IndexName === REVIEW_GSI.name ? REVIEW_GSI.partitionKey : pk;
    for (const m of b.KeyConditionExpression.matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
      const name = m[1]!.startsWith('#') ? b.ExpressionAttributeNames?.[m[1]!] : m[1];
      if (name === partition) return [b.ExpressionAttributeValues?.[m[2]!]?.S ?? ''];
    }
  }
  return undefined;
}

/** One pool cell: its tables, its STS, its tenants; see the file header. */
export class PoolCell {
  readonly sts = new StsStandIn(
    { [FUNCTION_CREDENTIALS.accessKeyId]: FUNCTION_CREDENTIALS.secretAccessKey },
    TENANT_SESSION_TAG,
    POOL_REGION,
  );
  readonly ledgerTable: string;
  readonly registryTable: string;
  /** The control plane, on this cell's registry (tenants are placed in this cell). */
  controlPlane!: RegistryHarness;
  /** API keys of the onboarded tenants. */
  readonly apiKeys: Record<string, string> = {};
  /** Calls the gate refused: who signed them, and what they named. */
  readonly denied: Array<{ operation: string; tenantTag?: string; leadingKeys?: string[] }> = [];

  constructor(
    readonly dynamo: DynamoDBClient,
    readonly cellId = POOL_CELL_ID,
    name = 'cell',
  ) {
    this.ledgerTable = `${name}-ledger`;
    this.registryTable = `${name}-registry`;
  }

  async start(): Promise<void> {
    await Promise.all([
      createLedgerTable(this.dynamo, this.ledgerTable),
      createRegistryTable(this.dynamo, this.registryTable),
      this.sts.start(),
    ]);
    this.controlPlane = this.controlPlaneFor([{ id: this.cellId, capacity: 100_000 }]);
  }

  async stop(): Promise<void> {
    await this.sts.stop();
  }

  /** The control plane placing tenants in `cells` (e.g. another cell), on this cell's registry. */
  controlPlaneFor(cells: readonly ControlPlaneCell[]): RegistryHarness {
    return new RegistryHarness(this.dynamo, this.registryTable, cells);
  }

  /**
   * Onboards a pooled tenant through the control plane; returns its id. `asPooled`: a silo tenant's file is
   * onboarded without the settings only a stack has (STACK_ONLY_SETTINGS: tags, ops e-mails, function settings…),
   * which a pooled document may not carry; its guardrail stays (a customized one is refused).
   */
  async onboard(
    document: Record<string, unknown>,
    controlPlane = this.controlPlane,
    opts: { asPooled?: boolean } = {},
  ): Promise<string> {
    const res = await controlPlane.call({
      method: 'POST',
      path: '/v1/tenants',
      body: { isolation: 'pool', ...(opts.asPooled ? withoutStackSettings(document) : document) },
    });
    if (res.status !== 201)
      throw new Error(`onboarding ${document.id} failed: ${res.status} ${JSON.stringify(res.body)}`);
    this.apiKeys[document.id as string] = res.body.apiKey;
    return document.id as string;
  }

  /** Suspends (or resumes) a tenant through the control plane. */
  async setSuspended(tenantId: string, suspended: boolean): Promise<void> {
    const res = await this.controlPlane.call({
      method: 'PATCH',
      path: `/v1/tenants/${tenantId}`,
      body: suspended ? { suspend: true } : { resume: true },
    });
    if (res.status !== 200) throw new Error(`PATCH ${tenantId} failed: ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** The tenant tag of the session that signed a call, if it is a tenant-access session. */
  tenantTagOf(call: DynamoCall): string | undefined {
    const s = this.sts.sessions.get(call.accessKeyId);
    return s?.roleArn === ACCESS_ROLE_ARN ? s.tags[TENANT_SESSION_TAG] : undefined;
  }

  /** Puts the IAM gate in front of the ledger table on `proxy` (the policy is synthesized first, once per file). */
  installGate(proxy: DynamoFaultProxy): void {
    poolAccessPolicy();
    proxy.gate = this.gate;
  }

  /** The IAM gate for the fault proxy: calls to the ledger table must be allowed by the tenant-access policy. */
  readonly gate = (call: DynamoCall): DynamoFault | undefined => {
    if ((call.body as { TableName?: string }).TableName !== this.ledgerTable) return undefined;
    const policy = poolAccessPolicy();
    const tag = this.tenantTagOf(call);
    const leadingKeys = leadingKeysOf(call);
    const index = (call.body as { IndexName?: string }).IndexName;
    const allowed = allows(policy.statements, {
      action: `dynamodb:${call.operation}`,
      resource: index ? `${policy.tableArn}/index/${index}` : policy.tableArn,
      context: {
        ...(tag ? { [`aws:PrincipalTag/${TENANT_SESSION_TAG}`]: tag } : {}),
        ...(leadingKeys ? { 'dynamodb:LeadingKeys': leadingKeys } : {}),
      },
    });
    if (allowed) return undefined;
    this.denied.push({
      operation: call.operation,
      ...(tag ? { tenantTag: tag } : {}),
      ...(leadingKeys ? { leadingKeys } : {}),
    });
    return ACCESS_DENIED;
  };

  /** Every item of the ledger table, raw. */
  async allItems(): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, never> | undefined;
    do {
      const res = await this.dynamo.send(
        new ScanCommand({ TableName: this.ledgerTable, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      out.push(...(res.Items ?? []).map((i) => unmarshall(i)));
      start = res.LastEvaluatedKey as Record<string, never> | undefined;
    } while (start);
    return out;
  }

  /**
   * A tenant's ledger items as a silo table would hold them: its own items only, the `T#<tenant>#` prefix taken off
   * `pk` (and the review index partition); admission counters (`ADMIT`, pooled only) are left out.
   */
  async itemsOf(tenantId: string): Promise<Record<string, unknown>[]> {
    const prefix = `T#${tenantId}#`;
    return (await this.allItems())
      .filter((i) => tenantOfPoolKey(String(i.pk)) === tenantId && i.pk !== `${prefix}ADMIT`)
      .map((i) => ({
        ...i,
        pk: String(i.pk).slice(prefix.length),
        ...(typeof i[REVIEW_GSI.partitionKey] === 'string'
          ? { [REVIEW_GSI.partitionKey]: String(i[REVIEW_GSI.partitionKey]).slice(prefix.length) }
          : {}),
      }));
  }
}

let seq = 0;
/** A proxy event of a pooled API: the authorizer's context names the tenant (what API Gateway passes on). */
export function withTenant(event: APIGatewayProxyEvent, tenantId: string | undefined): APIGatewayProxyEvent {
  seq++;
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      requestId: event.requestContext?.requestId ?? `gw-pool-${seq}`,
      ...(tenantId !== undefined ? { authorizer: { tenantId, principalId: tenantId } } : {}),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

/** `document` without the settings a pooled tenant may not have (the guardrail excepted: see `onboard`). */
export function withoutStackSettings(document: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(document);
  for (const { path } of STACK_ONLY_SETTINGS) {
    const [head, leaf] = path.split('.') as [string, string | undefined];
    if (leaf === undefined) delete out[head];
    else if (out[head] && typeof out[head] === 'object') delete (out[head] as Record<string, unknown>)[leaf];
  }
  return out;
}
