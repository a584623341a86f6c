/**
 * Tenant-scoped credentials for a pool cell's function. The function's own role reaches no tenant data; for each
 * request it works with the credentials of a session of the tenant-access role that carries the tenant id as
 * the session tag {@link TENANT_SESSION_TAG} (ABAC). The access role's policy allows the pooled ledger only
 * under `T#<that tag>#` and the pool key only with encryption context `tenant = <that tag>`
 * (lib/constructs/pool/tenant-access-role.ts), so a query built with the wrong tenant id is refused by IAM.
 *
 * Sessions are cached per tenant per container and assumed again {@link REFRESH_BEFORE_EXPIRY_MS} before they
 * expire; concurrent requests of one tenant share one AssumeRole call. Use the provider for the request's SDK
 * clients: `new DynamoDBClient({ credentials: tenantCredentials.forTenant(tenantId) })`.
 * STS itself is behind {@link StsPort} (tenant-credentials-sts.ts speaks the Query protocol).
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { TENANT_SESSION_TAG } from './pool-keys';
import { TENANT_ID_PATTERN } from './tenant-vocabulary';

/** One AssumeRole request. */
export interface AssumeRoleInput {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
  /** Session tags (sts:TagSession). */
  readonly tags: Readonly<Record<string, string>>;
}

/** Temporary credentials of a role session. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** STS, as the credentials cache sees it. */
export interface StsPort {
  assumeRole(input: AssumeRoleInput): Promise<SessionCredentials>;
}

/** Session length asked for: STS's minimum (15 minutes); a session is reused for most of it. */
export const SESSION_DURATION_SECONDS = 900;
/**
 * How long before expiry a session is replaced. At least the SDK's own margin (it treats credentials expiring
 * within 5 minutes as expired and asks the provider again), so the SDK never holds a session we consider stale.
 */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** Sessions held at most per container (the oldest is dropped): a cell's tenants, with room. */
export const MAX_CACHED_TENANTS = 5_000;

/** Props of {@link TenantCredentials}. */
export interface TenantCredentialsProps {
  readonly sts: StsPort;
  /** ARN of the tenant-access role. */
  readonly roleArn: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default SESSION_DURATION_SECONDS */
  readonly durationSeconds?: number;
  /** @default REFRESH_BEFORE_EXPIRY_MS */
  readonly refreshBeforeMs?: number;
}

/** The per-container cache of tenant sessions. */
export class TenantCredentials {
  private readonly sessions = new Map<string, SessionCredentials>();
  private readonly pending = new Map<string, Promise<SessionCredentials>>();
  private readonly now: () => number;

  constructor(private readonly props: TenantCredentialsProps) {
    this.now = props.now ?? Date.now;
  }

  /** An SDK credential provider for `tenantId`'s session (validated: a tenant id, nothing else, becomes a tag). */
  forTenant(tenantId: string): AwsCredentialIdentityProvider {
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new Error(`Not a tenant id: ${JSON.stringify(tenantId.slice(0, 40))}`);
    return async (): Promise<AwsCredentialIdentity> => {
      const c = await this.session(tenantId);
      return { ...c, expiration: c.expiration };
    };
  }

  /** The tenant's cached session while it is fresh, else a new one (one AssumeRole for concurrent callers). */
  async session(tenantId: string): Promise<SessionCredentials> {
    const cached = this.sessions.get(tenantId);
    const margin = this.props.refreshBeforeMs ?? REFRESH_BEFORE_EXPIRY_MS;
    if (cached && cached.expiration.getTime() - margin > this.now()) return cached;
    const inFlight = this.pending.get(tenantId);
    if (inFlight) return inFlight;
    const p = this.assume(tenantId).finally(() => this.pending.delete(tenantId));
    this.pending.set(tenantId, p);
    return p;
  }

  private async assume(tenantId: string): Promise<SessionCredentials> {
    const c = await this.props.sts.assumeRole({
      roleArn: this.props.roleArn,
      roleSessionName: `tenant-${tenantId}`,
      durationSeconds: this.props.durationSeconds ?? SESSION_DURATION_SECONDS,
      tags: { [TENANT_SESSION_TAG]: tenantId },
    });
    this.sessions.delete(tenantId);
    if (this.sessions.size >= MAX_CACHED_TENANTS) {
      const oldest = this.sessions.keys().next();
      if (!oldest.done) this.sessions.delete(oldest.value);
    }
    this.sessions.set(tenantId, c);
    return c;
  }
}
