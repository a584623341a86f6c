/**
 * What `npm run webhook:set`, `webhook:rotate` and `webhook:key` do to a tenant's webhook secret (see
 * scripts/webhook.ts for the command line). The URL is checked with the policy deliveries use
 * (lambda/shared/webhook-url.ts), must be on the origin the tenant file declares, and its host must resolve
 * to public addresses only; the signing key is kept when the URL changes.
 */
import { randomInt } from 'node:crypto';
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type Resolver, resolveChecked, WebhookError } from '../../lambda/review/adapters/webhook-delivery';
import {
  SIGNING_KEY_CHARS,
  signingKeysAt,
  WebhookSecretSchema,
  type WebhookSecretValue,
  webhookSecretNamePrefix,
} from '../../lambda/shared/webhook-signing';
import { checkWebhookUrl, shownOrigin } from '../../lambda/shared/webhook-url';
import { loadTenants } from '../../lib/config/load-tenants';

/** A refusal the command prints as it is (no stack trace). */
export class WebhookCommandError extends Error {
  override readonly name = 'WebhookCommandError';
}

/** What the operations need. */
export interface WebhookOpsDeps {
  readonly client: SecretsManagerClient;
  /** Folder of tenant files (the declared origin is read from there). */
  readonly tenantsDir: string;
  readonly resolve: Resolver;
  readonly now: () => number;
}

/** Longest overlap of a rotation (hours). */
export const MAX_OVERLAP_HOURS = 168;

/** The declared origin of a tenant's webhook, from its file. */
function declaredOrigin(deps: WebhookOpsDeps, tenantId: string): string {
  const [tenant] = loadTenants({ dir: deps.tenantsDir, only: tenantId });
  const origin = tenant?.escalation.webhook?.origin;
  if (!origin) {
    throw new WebhookCommandError(
      `tenants/${tenantId}.yaml declares no webhook: add escalation.webhook.origin (https://host) and deploy the tenant stack first`,
    );
  }
  return origin;
}

/** The ARN of the tenant's webhook secret (exactly one must exist in the account and region). */
async function findWebhookSecret(client: SecretsManagerClient, tenantId: string): Promise<string> {
  const prefix = webhookSecretNamePrefix(tenantId);
  const found: Array<{ arn: string; name: string }> = [];
  let next: string | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100, NextToken: next }),
    );
    for (const s of res.SecretList ?? [])
      if (s.ARN && s.Name?.startsWith(prefix)) found.push({ arn: s.ARN, name: s.Name });
    next = res.NextToken;
    if (!next) break;
  }
  if (found.length === 1) return found[0]!.arn;
  if (found.length === 0) {
    throw new WebhookCommandError(
      `No secret named ${prefix}… in this account and region: deploy the tenant stack (its output WebhookSecretArn names it), and check AWS_REGION`,
    );
  }
  throw new WebhookCommandError(
    `Several secrets are named ${prefix}… (${found.map((f) => f.name).join(', ')}): delete the one of a deleted stack, or compare with the stack output WebhookSecretArn`,
  );
}

async function readSecret(client: SecretsManagerClient, arn: string): Promise<WebhookSecretValue> {
  const res = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  let json: unknown;
  try {
    json = JSON.parse(res.SecretString ?? '');
  } catch {
    json = undefined;
  }
  const parsed = WebhookSecretSchema.safeParse(json);
  if (!parsed.success) {
    throw new WebhookCommandError(
      'The webhook secret does not hold {"url", "signingKey"} (was it changed by hand?): run npm run webhook:rotate to write a new key, then set the URL again',
    );
  }
  return parsed.data;
}

async function writeSecret(client: SecretsManagerClient, arn: string, value: WebhookSecretValue): Promise<void> {
  await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(value) }));
}

/** What `webhook:set` did. */
export interface SetResult {
  readonly secretArn: string;
  readonly origin: string;
  /** A note for the operator (e.g. the host does not resolve yet). */
  readonly warning?: string;
}

/** Stores `url` as the tenant's webhook URL, keeping the signing keys. */
export async function setWebhookUrl(deps: WebhookOpsDeps, tenantId: string, url: string): Promise<SetResult> {
  const origin = declaredOrigin(deps, tenantId);
  const checked = checkWebhookUrl(url, 'url');
  if (!checked.ok) throw new WebhookCommandError(`--url: ${checked.problem}`);
  if (checked.origin !== origin) {
    throw new WebhookCommandError(
      `--url is on ${checked.origin}, but tenants/${tenantId}.yaml declares ${origin}: deliveries would be refused; change escalation.webhook.origin (and deploy) or give a URL on ${origin}`,
    );
  }
  let warning: string | undefined;
  try {
    await resolveChecked(checked.host, deps.resolve);
  } catch (e) {
    if (e instanceof WebhookError && e.name === 'WebhookRefused') throw new WebhookCommandError(`--url: ${e.message}`);
    warning = `${(e as Error).message}; deliveries fail until it resolves (to public addresses only)`;
  }
  const secretArn = await findWebhookSecret(deps.client, tenantId);
  const current = await readSecret(deps.client, secretArn);
  await writeSecret(deps.client, secretArn, { ...current, url: checked.url.href });
  return { secretArn, origin, ...(warning ? { warning } : {}) };
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new signing key like the one CloudFormation generates: letters and digits, uniformly random. */
function newSigningKey(): string {
  let key = '';
  for (let i = 0; i < SIGNING_KEY_CHARS; i++) key += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return key;
}

/** What `webhook:rotate` did. */
export interface RotateResult {
  readonly secretArn: string;
  readonly signingKey: string;
  /** Until when the previous key also signs (ISO), or undefined with no overlap. */
  readonly previousUntil?: string;
}

/** Writes a new signing key; the current one keeps signing for `overlapHours` (0: stops at once). */
export async function rotateSigningKey(
  deps: WebhookOpsDeps,
  tenantId: string,
  overlapHours: number,
): Promise<RotateResult> {
  if (!Number.isInteger(overlapHours) || overlapHours < 0 || overlapHours > MAX_OVERLAP_HOURS) {
    throw new WebhookCommandError(`--overlap-hours: must be a whole number from 0 to ${MAX_OVERLAP_HOURS}`);
  }
  const secretArn = await findWebhookSecret(deps.client, tenantId);
  const current = await readSecret(deps.client, secretArn);
  const signingKey = newSigningKey();
  const previousUntil = overlapHours > 0 ? new Date(deps.now() + overlapHours * 3_600_000).toISOString() : undefined;
  const { previousSigningKey: _p, previousSigningKeyExpiresAt: _e, ...rest } = current;
  await writeSecret(deps.client, secretArn, {
    ...rest,
    signingKey,
    ...(previousUntil ? { previousSigningKey: current.signingKey, previousSigningKeyExpiresAt: previousUntil } : {}),
  });
  return { secretArn, signingKey, ...(previousUntil ? { previousUntil } : {}) };
}

/** The keys deliveries are signed with now (current first), and the URL's origin (never its path). */
export async function signingKeys(
  deps: WebhookOpsDeps,
  tenantId: string,
): Promise<{ secretArn: string; keys: string[]; urlOrigin?: string }> {
  const secretArn = await findWebhookSecret(deps.client, tenantId);
  const v = await readSecret(deps.client, secretArn);
  return {
    secretArn,
    keys: signingKeysAt(v, deps.now()),
    ...(v.url ? { urlOrigin: shownOrigin(v.url) } : {}),
  };
}
