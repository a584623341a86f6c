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
} as const;
