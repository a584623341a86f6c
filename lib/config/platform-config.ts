/**
 * The platform's own configuration: what is decided once per account and region rather than per tenant. It
 * lives in `cdk.json` under the context key `switchboard` (so `-c`/`--context` and a team's own `cdk.json`
 * can set it), is validated like a tenant file, and is read only by `bin/app.ts` (and the tests, from the
 * same `cdk.json`).
 */
import { z } from 'zod';
import { POOL_CELL_ID_PATTERN } from '../../lambda/shared/pool-runtime';
import { PREAMBLE_MAX_CHARS } from '../../lambda/shared/tenant-runtime';

/** The context key in `cdk.json` that holds the platform configuration. */
export const PLATFORM_CONTEXT_KEY = 'switchboard';

/** IAM role name with an optional path (`KeyAdmins`, `security/KeyAdmins`), as in an IAM role ARN. */
const ROLE_NAME = /^([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** What `cdk.json` → `context.switchboard` may hold. */
export const PlatformFileSchema = z.strictObject({
  opsEmails: z
    .array(z.email())
    .min(1)
    .max(20)
    .describe(
      'Who receives platform alarms (subscribed to the platform ops topic), and every tenant alarm of tenants without opsEmails of their own',
    ),
  keyAdminRoles: z
    .array(z.string().regex(ROLE_NAME, { message: 'must be an IAM role name, optionally with a path (a/b/Name)' }))
    .max(10)
    .optional()
    .describe(
      'IAM roles (name with optional path) that may administer every Switchboard KMS key, besides the CDK deploy role and the root user (break-glass)',
    ),
  webhookOperatorRoles: z
    .array(z.string().regex(ROLE_NAME, { message: 'must be an IAM role name, optionally with a path (a/b/Name)' }))
    .max(10)
    .optional()
    .describe(
      "IAM roles (name with optional path) that may set tenants' webhook URLs and read or rotate their signing keys (npm run webhook:set / webhook:rotate / webhook:key); needed as soon as a tenant declares a webhook",
    ),
  apiGatewayAccountRole: z
    .enum(['existing', 'manage'])
    .optional()
    .describe(
      '"existing": the account already has an API Gateway CloudWatch role (aws apigateway get-account); "manage": the platform stack sets it (account-wide, replaces any other)',
    ),
  waf: z
    .strictObject({
      requestsPer5MinPerClient: z
        .number()
        .int()
        .min(10)
        .max(2_000_000_000)
        .optional()
        .describe('WAF rate limit per (client IP, API key) over 5 minutes; every tenant throttle must fit under it'),
      requestsPer5MinPerIp: z
        .number()
        .int()
        .min(10)
        .max(2_000_000_000)
        .optional()
        .describe(
          'WAF rate limit per client IP over 5 minutes, whatever API key it sends (random keys open no new bucket); every tenant throttle must fit under it',
        ),
      unauthenticatedRequestsPer5MinPerIp: z
        .number()
        .int()
        .min(10)
        .max(2_000_000_000)
        .optional()
        .describe(
          'WAF rate limit per client IP over 5 minutes for requests without an API key (review routes, probes)',
        ),
    })
    .optional(),
  quotas: z
    .record(z.string(), z.number().int().positive())
    .optional()
    .describe('Raised AWS quotas of this account and region, by capacity-model quota id (defaults: AWS)'),
  modelSpeeds: z
    .record(
      z.string(),
      z.strictObject({
        outputTokensPerSecond: z.number().positive().max(100_000),
        firstTokenMs: z.number().int().min(0).max(600_000).optional(),
      }),
    )
    .optional()
    .describe(
      'Measured output speeds of models in this account (CloudWatch AWS/Bedrock), replacing the catalog figures in the answer-time check',
    ),
  poolCells: z
    .array(
      z.string().regex(POOL_CELL_ID_PATTERN, {
        message: 'must be a pool cell id: "pool-<n>", n from 1 to 999 without leading zeros (pool-1, pool-2, ...)',
      }),
    )
    .min(1)
    .max(50)
    .optional()
    .describe(
      'The pool cells serving pooled tenants, in placement order (one stack Switchboard-Pool-<n> each); a new cell is one more entry. Default ["pool-1"]',
    ),
  systemPreamble: z
    .string()
    .min(1)
    .max(PREAMBLE_MAX_CHARS)
    .optional()
    .describe(
      "System text put first on every model call of every tenant (before the tenant's preamble and the request's system text); callers cannot remove it",
    ),
  reviewerSignInDomainPrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, {
      message: 'must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen',
    })
    .refine((v) => !/aws|amazon|cognito/.test(v), {
      message: 'may not contain aws, amazon or cognito (Cognito refuses them)',
    })
    .optional()
    .describe(
      "Prefix of the reviewers' Cognito sign-in domain (<prefix>.auth.<region>.amazoncognito.com, unique in the region): the review consoles send reviewers there. Without it the consoles have no sign-in (the SigV4 review routes still work)",
    ),
});

/** The platform configuration with defaults applied. */
export interface PlatformConfig {
  readonly opsEmails: readonly string[];
  readonly keyAdminRoles: readonly string[];
  /** Roles that may set webhook URLs and read or rotate signing keys (none: no tenant may declare a webhook). */
  readonly webhookOperatorRoles: readonly string[];
  readonly apiGatewayAccountRole: 'existing' | 'manage';
  readonly waf: {
    readonly requestsPer5MinPerClient: number;
    readonly requestsPer5MinPerIp: number;
    readonly unauthenticatedRequestsPer5MinPerIp: number;
  };
  /** Raised quotas by capacity-model quota id (checked against the quota catalog by the capacity model). */
  readonly quotas: Readonly<Record<string, number>>;
  /** Measured model speeds by model id (checked against the catalog at synth). */
  readonly modelSpeeds: Readonly<Record<string, { outputTokensPerSecond: number; firstTokenMs?: number }>>;
  /** The pool cells (`pool-<n>`), in placement order: one `Switchboard-Pool-<n>` stack each. */
  readonly poolCells: readonly string[];
  /** System text put first on every model call of every tenant. */
  readonly systemPreamble?: string;
  /** Prefix of the reviewers' Cognito sign-in domain (the review consoles' sign-in); none: no console sign-in. */
  readonly reviewerSignInDomainPrefix?: string;
}

/** The pool cells when `cdk.json` names none. */
export const DEFAULT_POOL_CELLS: readonly string[] = ['pool-1'];

/** Defaults of the WAF rate rules. */
export const WAF_DEFAULTS = {
  requestsPer5MinPerClient: 100_000,
  /** Several tenants' clients can share one NAT address: room for three at the largest default throttle. */
  requestsPer5MinPerIp: 300_000,
  unauthenticatedRequestsPer5MinPerIp: 1_000,
} as const;

/** Thrown when the platform configuration is invalid (printed without a stack trace, like tenant files). */
export class PlatformConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid platform configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'PlatformConfigError';
  }
}

const WHERE = `cdk.json context "${PLATFORM_CONTEXT_KEY}"`;

/** Validates the `switchboard` context value and applies the defaults; throws {@link PlatformConfigError}. */
export function resolvePlatformConfig(input: unknown): PlatformConfig {
  if (input === undefined) {
    throw new PlatformConfigError([
      `${WHERE}: is missing; add {"opsEmails": ["<on-call address>"]} under "context" in cdk.json (see README, "Deploying to AWS")`,
    ]);
  }
  const parsed = PlatformFileSchema.safeParse(input);
  if (!parsed.success) {
    throw new PlatformConfigError(
      parsed.error.issues.map((i) => `${WHERE}: ${i.path.map(String).join('.') || '(value)'}: ${i.message}`),
    );
  }
  const p = parsed.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of p.opsEmails) {
    if (seen.has(e.toLowerCase())) problems.push(`${WHERE}: opsEmails: "${e}" is listed twice`);
    seen.add(e.toLowerCase());
  }
  const cells = new Set<string>();
  for (const c of p.poolCells ?? []) {
    if (cells.has(c)) problems.push(`${WHERE}: poolCells: "${c}" is listed twice; each cell is one stack`);
    cells.add(c);
  }
  if (p.systemPreamble !== undefined && Buffer.byteLength(p.systemPreamble, 'utf8') > PREAMBLE_MAX_CHARS) {
    problems.push(
      `${WHERE}: systemPreamble: ${Buffer.byteLength(p.systemPreamble, 'utf8')} bytes in UTF-8; at most ${PREAMBLE_MAX_CHARS} (it travels in every inference function's environment, which Lambda limits to 4 KB)`,
    );
  }
  if (problems.length) throw new PlatformConfigError(problems);
  return {
    opsEmails: p.opsEmails,
    keyAdminRoles: p.keyAdminRoles ?? [],
    webhookOperatorRoles: p.webhookOperatorRoles ?? [],
    apiGatewayAccountRole: p.apiGatewayAccountRole ?? 'existing',
    waf: { ...WAF_DEFAULTS, ...p.waf },
    quotas: p.quotas ?? {},
    modelSpeeds: p.modelSpeeds ?? {},
    poolCells: p.poolCells ?? DEFAULT_POOL_CELLS,
    ...(p.systemPreamble !== undefined ? { systemPreamble: p.systemPreamble } : {}),
    ...(p.reviewerSignInDomainPrefix !== undefined ? { reviewerSignInDomainPrefix: p.reviewerSignInDomainPrefix } : {}),
  };
}
