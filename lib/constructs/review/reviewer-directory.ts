import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { reviewerGroupName } from '../../../lambda/review/http/reviewer-claims';
import { TENANT_ID_PATTERN } from '../../../lambda/shared/tenant-vocabulary';
import { pascal } from '../control-plane/control-plane';

/** Props of {@link ReviewerDirectory}. */
export interface ReviewerDirectoryProps {
  /**
   * Tenants whose reviewer group is created with the pool (the silo tenants, from their files). A pooled
   * tenant's group is created when it is onboarded (see {@link ReviewerDirectory.grantManageGroups}).
   * @default - no group: every group is created at onboarding
   */
  readonly tenantIds?: readonly string[];
  /**
   * Prefix of the Cognito sign-in domain (`<prefix>.auth.<region>.amazoncognito.com`, unique in the region) the
   * review console sends reviewers to; each console gets its app client with {@link ReviewerDirectory.addConsoleClient}.
   * @default - no sign-in domain (no console sign-in; tokens only for tools that call Cognito's API)
   */
  readonly domainPrefix?: string;
  /**
   * What happens to the pool (and so every reviewer account) when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** How long a console sign-in lasts (ID and access tokens); the refresh token is not used by the console. */
const SESSION = Duration.hours(1);

/**
 * The people who answer escalations: a Cognito user pool where each reviewer signs in with a password and a
 * second factor (an authenticator app; MFA is required), and one group per tenant, `tenant-<id>`, whose members
 * may review that tenant. The review API's Cognito authorizer accepts this pool's tokens, and the handler lets a
 * reviewer act on exactly the tenants whose groups its `cognito:groups` claim lists
 * (lambda/review/http/reviewer-claims.ts, where the group name is made).
 *
 * Nobody signs up: an administrator creates reviewer accounts and adds them to groups. The pool is on the Plus
 * feature plan with threat protection enforced (compromised-credential and adaptive-authentication checks).
 */
export class ReviewerDirectory extends Construct {
  readonly userPool: cognito.UserPool;
  /** The sign-in domain's base URL (`https://<prefix>.auth.<region>.amazoncognito.com`), with `domainPrefix`. */
  readonly signInUrl?: string;
  /** The groups created with the pool, by tenant id. */
  readonly groups: ReadonlyMap<string, cognito.UserPoolGroup>;

  constructor(scope: Construct, id: string, props: ReviewerDirectoryProps = {}) {
    super(scope, id);
    validate(props);
    const pool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true, username: false },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false, email: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.userPool = pool;

    const groups = new Map<string, cognito.UserPoolGroup>();
    for (const tenantId of props.tenantIds ?? []) {
      groups.set(
        tenantId,
        pool.addGroup(`Tenant${pascal(tenantId)}`, {
          groupName: reviewerGroupName(tenantId),
          description: `Reviewers of tenant ${tenantId}: may answer its escalations in the review console`,
        }),
      );
    }
    this.groups = groups;

    if (props.domainPrefix !== undefined) {
      this.signInUrl = pool.addDomain('SignIn', { cognitoDomain: { domainPrefix: props.domainPrefix } }).baseUrl();
    }
  }

  /**
   * An app client for a review console served at `consoleUrl` (`https://…/`, where sign-in sends reviewers back):
   * authorization code with PKCE, no secret, ID tokens for an hour. `scope` may be in another stack (a tenant
   * stack whose review API serves the console), so the client lives beside the URL it names.
   */
  addConsoleClient(scope: Construct, id: string, consoleUrl: string): cognito.UserPoolClient {
    const problem = consoleUrlProblem(consoleUrl);
    if (problem) throw new Error(`Invalid console client ${id}: ${problem}`);
    return new cognito.UserPoolClient(scope, id, {
      userPool: this.userPool,
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: SESSION,
      accessTokenValidity: SESSION,
      refreshTokenValidity: Duration.hours(8),
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [consoleUrl],
        logoutUrls: [consoleUrl],
      },
    });
  }

  /**
   * The reviewer group of a tenant, created in `scope` (the tenant's own stack: the group goes with it) rather than
   * with the pool.
   */
  addTenantGroup(scope: Construct, id: string, tenantId: string): cognito.CfnUserPoolGroup {
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new Error(`addTenantGroup: "${tenantId}" is not a tenant id`);
    return new cognito.CfnUserPoolGroup(scope, id, {
      userPoolId: this.userPool.userPoolId,
      groupName: reviewerGroupName(tenantId),
      description: `Reviewers of tenant ${tenantId}: may answer its escalations in the review console`,
    });
  }

  /**
   * Lets `grantee` (the control plane's onboarding function) create and delete reviewer groups, for the pooled
   * tenants it onboards and offboards; group names are `tenant-<id>` ({@link reviewerGroupName}).
   */
  grantManageGroups(grantee: iam.IGrantable): iam.Grant {
    return this.userPool.grant(grantee, 'cognito-idp:CreateGroup', 'cognito-idp:DeleteGroup', 'cognito-idp:GetGroup');
  }
}

/** What is wrong with a console URL as a Cognito callback URL, if anything (tokens are taken as they are). */
function consoleUrlProblem(url: string): string | undefined {
  if (Token.isUnresolved(url)) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'https:' || parsed.hash || parsed.search) {
    return `consoleUrl "${url}" must be an https URL without query or fragment (a Cognito callback URL)`;
  }
  return undefined;
}

/** Every problem with the props, in one error. */
function validate(props: ReviewerDirectoryProps): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const t of props.tenantIds ?? []) {
    if (Token.isUnresolved(t)) continue;
    if (!TENANT_ID_PATTERN.test(t)) problems.push(`tenantIds: "${t}" is not a tenant id (${TENANT_ID_PATTERN})`);
    if (seen.has(t)) problems.push(`tenantIds: "${t}" is listed twice`);
    seen.add(t);
  }
  const prefix = props.domainPrefix;
  if (prefix !== undefined && !Token.isUnresolved(prefix) && !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix)) {
    problems.push(`domainPrefix: "${prefix}" must be 1-63 lowercase letters, digits and hyphens`);
  }
  if (prefix !== undefined && !Token.isUnresolved(prefix) && /aws|amazon|cognito/.test(prefix)) {
    problems.push(`domainPrefix: "${prefix}" may not contain "aws", "amazon" or "cognito" (Cognito refuses it)`);
  }
  if (problems.length) throw new Error(`Invalid ReviewerDirectory props:\n  ${problems.join('\n  ')}`);
}
