/**
 * What the isolation matrix needs to be told, because a template alone does not say it: which resources of a pool
 * cell hold its pooled tenants' data, which role their sessions use, and which tenants the cell holds. Silo tenants
 * need no marker: every resource of a tenant stack carries the tenant tag (SWITCHBOARD_TAGS.tenant).
 */
import { type CfnElement, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';

/** Template metadata key of a pool cell stack (its value: {@link PoolCellMarker}). */
export const POOL_CELL_METADATA = 'switchboard:pool-cell';

/** The pool cell marker as written in the template's `Metadata` (logical ids of the cell's stack). */
export interface PoolCellMarker {
  readonly cellId: string;
  /** The pooled ledger table (partition keys `T#<tenant>#…`). */
  readonly ledgerTable: string;
  /** The pool key (tenant data under encryption context `tenant = <tenant>`). */
  readonly key: string;
  /** The tenant-access role (sessions tagged `switchboard:tenant = <tenant>`). */
  readonly accessRole: string;
  /** The pooled function's role: it assumes the access role with the tenant of each request. */
  readonly pooledFunctionRole: string;
  /** The cell's other functions that take tenant sessions (the review steps and review API), if any. */
  readonly sessionRoles?: readonly string[];
  /** The tenants placed in the cell when the app was synthesized (more may be onboarded later). */
  readonly tenants: readonly string[];
}

/** Props of {@link markPoolCell}. */
export interface PoolCellMarkerProps {
  readonly cellId: string;
  readonly table: dynamodb.ITable;
  readonly key: kms.IKey;
  readonly accessRole: iam.IRole;
  /** The pooled function's role (it assumes the access role with each request's tenant). */
  readonly pooledFunctionRole: iam.IRole;
  /** The cell's other functions' roles that assume the access role with a tenant (the review functions). */
  readonly sessionRoles?: readonly iam.IRole[];
  /** The tenants placed in the cell (tenant files); the matrix adds probe tenants when fewer than two. */
  readonly tenants: readonly string[];
}

function logicalIdOf(stack: Stack, c: IConstruct, what: string): string {
  const child = c.node.defaultChild as CfnElement | undefined;
  if (!child || Stack.of(child) !== stack)
    throw new Error(`markPoolCell: ${what} must be a resource of ${stack.stackName}`);
  return stack.getLogicalId(child);
}

/** Marks `stack` as a pool cell for the isolation matrix (template `Metadata["switchboard:pool-cell"]`). */
export function markPoolCell(stack: Stack, props: PoolCellMarkerProps): void {
  const marker: PoolCellMarker = {
    cellId: props.cellId,
    ledgerTable: logicalIdOf(stack, props.table, 'table'),
    key: logicalIdOf(stack, props.key, 'key'),
    accessRole: logicalIdOf(stack, props.accessRole, 'accessRole'),
    pooledFunctionRole: logicalIdOf(stack, props.pooledFunctionRole, 'pooledFunctionRole'),
    sessionRoles: (props.sessionRoles ?? []).map((r) => logicalIdOf(stack, r, 'sessionRoles')),
    tenants: [...props.tenants],
  };
  stack.addMetadata(POOL_CELL_METADATA, marker);
}
