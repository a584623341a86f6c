/**
 * The platform principals whose purpose is to reach every tenant's data, each with the reason: the one place the
 * isolation matrix takes a cross-tenant cell as expected. The compliance report lists them with the cells they
 * cover; an exception that matches no principal is shown as unused.
 */
import { controlPlaneRoleName } from '../constructs/control-plane/names';
import { type ResourceKind, SCAN_KEYS_ONLY } from './isolation-kinds';
import type { MatrixPrincipal } from './isolation-matrix';

/** One expected cross-tenant access. */
export interface IsolationException {
  /** Stable id, shown in the report. */
  readonly id: string;
  /** Why this principal must reach other tenants' data. */
  readonly reason: string;
  /** The principals it covers. */
  readonly principal: (p: MatrixPrincipal) => boolean;
  /** What it covers (every kind when absent). */
  readonly kinds?: readonly ResourceKind[];
  /**
   * The only actions it covers, as findings name them (the action, or a probe's label such as `SCAN_KEYS_ONLY`):
   * a cell where anything else is allowed still fails. When absent, every action, and principals whose policies
   * cannot be read (AWS managed policies) too.
   */
  readonly actions?: readonly string[];
}

/** The AWS Backup service principal (the only principal the platform's backup role trusts). */
const AWS_BACKUP_SERVICE = 'backup.amazonaws.com';

/** Every expected cross-tenant access of the app. */
export const ISOLATION_EXCEPTIONS: readonly IsolationException[] = [
  {
    id: 'aws-backup',
    reason:
      "AWS Backup's service role backs up and restores every tenant ledger the platform's tag-based selection picks (one selection per account: lib/constructs/platform/backup.ts). Its permissions are AWS's managed AWSBackupServiceRolePolicyForBackup, which the templates do not contain, so its cells cannot be evaluated; only AWS Backup can assume it (aws:SourceAccount guard), and tenant keys let it use them only through DynamoDB and AWS Backup (kms:ViaService).",
    principal: (p) => p.trustedServices.length > 0 && p.trustedServices.every((s) => s === AWS_BACKUP_SERVICE),
  },
  {
    id: 'pooled-function',
    reason:
      "A pool cell's functions serve every tenant of the cell: for each request the inference function assumes the cell's tenant-access role with the tenant the authorizer resolved from the API key as session tag, the review steps with the tenant its execution names (written only by the cell's own functions), the review API with the tenant in the route IAM matched to the reviewer's session tag; each reaches that tenant's data only through that session. Their own roles reach no tenant data (their items and key cells are in the matrix).",
    principal: (p) => p.cellRole === 'pooled-function',
    kinds: ['roles'],
    actions: ['sts:AssumeRole', 'sts:TagSession'],
  },
  {
    id: 'control-plane',
    reason:
      "The control plane offboards pooled tenants whose file says offboarding.data: delete. It lists the offboarded tenant's item keys with a Scan that may return the key attributes only (dynamodb:Select SPECIFIC_ATTRIBUTES, dynamodb:Attributes pk and sk: it cannot read tenant data), and deletes the items through that tenant's session of the cell's tenant-access role, so IAM still limits every deletion to that tenant's leading keys (lambda/control-plane/core/purge.ts).",
    principal: (p) => p.roleName === controlPlaneRoleName(p.region),
    kinds: ['items', 'roles'],
    actions: [SCAN_KEYS_ONLY, 'sts:AssumeRole', 'sts:TagSession'],
  },
];
