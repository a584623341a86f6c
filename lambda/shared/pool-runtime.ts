/**
 * The contract between a pool cell's resources (lib/stacks/pool-cell-stack.ts), its pooled inference function
 * (lambda/pool-inference) and the control plane (lambda/control-plane): cell ids, the function's environment, and
 * the physical names that let the control plane and the cells find each other without a dependency cycle.
 *
 * Dependencies between the stacks: `Switchboard-Pool-<n>` reads the registry by its fixed name
 * ({@link REGISTRY_TABLE_NAME}) and has no CloudFormation reference to the control plane, so the control plane
 * stack may reference the cells' outputs (their API ids, tables and tenant-access roles) for suspension,
 * offboarding and purges. Deploy the cells first, then `Switchboard-ControlPlane`.
 */

/** A pool cell id: `pool-<n>`; its stack is `Switchboard-Pool-<n>`. */
export const POOL_CELL_ID_PATTERN = /^pool-[1-9][0-9]{0,2}$/;

/** The registry table's physical name (fixed: the cells find it by name, see above). */
export const REGISTRY_TABLE_NAME = 'switchboard-tenant-registry';

/**
 * The physical name of a cell's reviewers topic (fixed: the control plane subscribes pooled tenants' reviewers to it
 * by name, with no reference to the cell stack).
 */
export function reviewersTopicName(cellId: string): string {
  return `switchboard-${cellId}-reviewers`;
}

/** The SNS message attribute naming a review's tenant on a cell's reviewers topic (subscriptions filter on it). */
export const REVIEW_TENANT_ATTRIBUTE = 'tenantId';

/**
 * Environment of the pooled inference function, beside `LEDGER_TABLE_NAME` (the cell's pooled ledger),
 * `REGISTRY_TABLE_NAME` (REGISTRY_TABLE_ENV) and the review state machine's ARN (REVIEW_ENV.stateMachineArn).
 */
export const POOL_ENV = {
  /** The cell this function serves (`pool-1`): a tenant placed in another cell is refused. */
  cellId: 'POOL_CELL_ID',
  /** The cell's tenant-access role, assumed per tenant with the `switchboard:tenant` session tag. */
  tenantAccessRoleArn: 'TENANT_ACCESS_ROLE_ARN',
  /** JSON `{"<plan>": {"arn": "...", "version": "<n>"}}`: the plan guardrails pooled tenants' calls apply. */
  guardrails: 'POOL_GUARDRAILS',
  /**
   * The platform's system preamble (`cdk.json` context.switchboard.systemPreamble), put before every pooled tenant's
   * own (a silo tenant's function has it in its runtime config; the registry's runtime configs do not). Optional.
   */
  platformPreamble: 'POOL_PLATFORM_PREAMBLE',
} as const;

/**
 * One pool cell as the control plane function sees it (`POOL_CELLS`, a JSON array in placement order): where
 * it places tenants and what it touches on suspension, offboarding and purges. Built by the control plane stack
 * from the cells' constructs.
 */
export interface PoolCellEnv {
  readonly id: string;
  /** Tenants the cell holds at most (lib/capacity: tenants per cell). */
  readonly capacity: number;
  /** The cell's REST API and stage (its authorizer cache is flushed when a tenant is suspended or offboarded). */
  readonly restApiId?: string;
  readonly stage?: string;
  /** The cell's pooled ledger table (purged per tenant on offboarding). */
  readonly ledgerTable?: string;
  /** The cell's tenant-access role (the purge deletes through a session tagged with the tenant). */
  readonly tenantAccessRoleArn?: string;
  /** The cell's reviewers topic (pooled tenants' reviewer e-mails are subscribed to it, filtered by tenant). */
  readonly reviewersTopicArn?: string;
}

/**
 * The CloudFormation custom resource that registers a silo tenant (from its file) in the registry: the control
 * plane stack has one per silo tenant file, served by the control plane function itself (no provider function).
 */
export const SILO_REGISTRATION = {
  resourceType: 'Custom::SwitchboardSiloTenant',
  /** Resource properties: the tenant id and its file's document (JSON string). */
  props: { tenantId: 'TenantId', document: 'Document' },
} as const;
