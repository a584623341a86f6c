/**
 * Which tenants a reviewer signed in with the Cognito user pool may review: exactly those whose group
 * (`tenant-<id>`, {@link reviewerGroupName}) the reviewer belongs to. The group name is made here and only
 * here: the user pool construct (lib/constructs/review/reviewer-directory.ts) creates the groups with it and the
 * review API checks a token's `cognito:groups` claim against it.
 *
 * API Gateway's Cognito user pool authorizer has already verified the token (signature, issuer, audience,
 * expiry) when the claims reach the handler (`requestContext.authorizer.claims`); every claim value arrives
 * there as a string. A list claim such as `cognito:groups` is flattened: comma-separated (REST APIs), or
 * `[a b c]` (HTTP APIs' JWT authorizer); an already parsed array (a Lambda authorizer's context, a test) is
 * read as it is. Pure: no AWS, no I/O.
 */
import { ApiError } from '../../shared/errors';

/** Prefix of the Cognito group that lets its members review one tenant. */
export const REVIEWER_GROUP_PREFIX = 'tenant-';

/** Longest group name Cognito accepts (CreateGroup `GroupName`, 1 to 128 characters). */
export const MAX_GROUP_NAME_CHARS = 128;

/** The Cognito group whose members may review `tenantId` (`tenant-acme`). */
export function reviewerGroupName(tenantId: string): string {
  const name = `${REVIEWER_GROUP_PREFIX}${tenantId}`;
  if (tenantId.length === 0 || name.length > MAX_GROUP_NAME_CHARS) {
    throw new Error(
      `Tenant id "${tenantId.slice(0, 200)}" gives no valid reviewer group name (1 to ${MAX_GROUP_NAME_CHARS} characters)`,
    );
  }
  return name;
}

/**
 * Most characters of the `cognito:groups` claim read. A user belongs to at most 100 groups of at most 128
 * characters (Cognito quotas), so a real claim is below 13,000; a longer one is refused, not scanned.
 */
const MAX_GROUPS_CLAIM_CHARS = 16 * 1024;

/** Who a signed-in reviewer is, as the decision records it. */
export interface Reviewer {
  /** The name shown to people: the token's `email`, else its `cognito:username`. */
  readonly name: string;
  /** Who Cognito authenticated, stored beside the reviewer's own name (`cognito:<issuer>#<sub>`). */
  readonly identity: string;
}

/** The answer for one call: the reviewer, or why they may not review this tenant (403 `forbidden`). */
export type ReviewerAccess =
  | { readonly allowed: true; readonly reviewer: Reviewer }
  | { readonly allowed: false; readonly error: ApiError };

/** The groups a `cognito:groups` claim names, or undefined when it is not a list this function can read. */
export function groupsOf(claim: unknown): string[] | undefined {
  if (claim === undefined || claim === null || claim === '') return [];
  if (Array.isArray(claim)) {
    if (claim.length > 1_000) return undefined;
    return claim.every((g) => typeof g === 'string') ? (claim as string[]) : undefined;
  }
  if (typeof claim !== 'string' || claim.length > MAX_GROUPS_CLAIM_CHARS) return undefined;
  const bracketed = claim.startsWith('[') && claim.endsWith(']');
  const parts = bracketed ? claim.slice(1, -1).split(' ') : claim.split(',');
  return parts.map((g) => g.trim()).filter((g) => g.length > 0);
}

const forbidden = (message: string): ReviewerAccess => ({ allowed: false, error: new ApiError('forbidden', message) });

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Whether the reviewer the authorizer's `claims` describe may review `tenantId`: only as a member of the
 * tenant's group. Anything else (no claims, a claim this cannot read, another tenant's group only) is a 403
 * `forbidden` whose message names the group that is missing, never the groups the reviewer has.
 */
export function reviewerAccess(
  claims: Readonly<Record<string, unknown>> | null | undefined,
  tenantId: string,
): ReviewerAccess {
  if (!claims || typeof claims !== 'object') {
    return forbidden('This route needs a reviewer sign-in (a Cognito user pool token in the Authorization header)');
  }
  const sub = text(claims.sub);
  if (!sub) return forbidden('The sign-in token names no user (no "sub" claim); sign in again');
  const groups = groupsOf(claims['cognito:groups']);
  if (!groups) return forbidden('The sign-in token\'s "cognito:groups" claim could not be read; sign in again');
  if (tenantId.length === 0 || REVIEWER_GROUP_PREFIX.length + tenantId.length > MAX_GROUP_NAME_CHARS) {
    return forbidden(`No tenant "${tenantId.slice(0, 80)}" can be reviewed`);
  }
  const needed = reviewerGroupName(tenantId);
  if (!groups.includes(needed)) {
    return forbidden(
      `You may not review tenant "${tenantId}": reviewers of a tenant are the members of the group "${needed}" in the reviewer user pool; ask an administrator to add you, then sign in again`,
    );
  }
  const name = text(claims.email) ?? text(claims['cognito:username']) ?? sub;
  return { allowed: true, reviewer: { name, identity: `cognito:${text(claims.iss) ?? 'unknown-issuer'}#${sub}` } };
}
