/**
 * The tenant's webhook secret (URL and signing keys) read from Secrets Manager, kept for a short while so a
 * burst of deliveries costs one read. The secret's resource policy and the tenant key policy let only the
 * review steps role and the platform's webhook operators read it.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WebhookSecretSchema, type WebhookSecretValue } from '../../shared/webhook-signing';
import { WebhookError } from './webhook-delivery';

/** Where the webhook's URL and keys come from. */
export interface WebhookSecretSource {
  get(): Promise<WebhookSecretValue>;
}

/** How long a read secret is used before it is read again (a changed URL or key takes effect within this). */
export const SECRET_CACHE_MS = 60_000;

/** Reads `secretId` (cached {@link SECRET_CACHE_MS}); failures are not cached. */
export function makeSecretsManagerWebhookSecret(
  client: SecretsManagerClient,
  secretId: string,
  now: () => number,
  ttlMs = SECRET_CACHE_MS,
): WebhookSecretSource {
  let cached: { value: WebhookSecretValue; until: number } | undefined;
  return {
    async get() {
      if (cached && now() < cached.until) return cached.value;
      let text: string | undefined;
      try {
        text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
      } catch (e) {
        throw new WebhookError('WebhookFailed', `The webhook secret could not be read (${(e as Error)?.name})`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text ?? '');
      } catch {
        json = undefined;
      }
      const parsed = WebhookSecretSchema.safeParse(json);
      if (!parsed.success) {
        // Never echo the value: it holds the signing key.
        throw new WebhookError(
          'WebhookNotConfigured',
          'The webhook secret is not JSON with "url" and "signingKey"; set it with npm run webhook:set',
        );
      }
      cached = { value: parsed.data, until: now() + ttlMs };
      return parsed.data;
    },
  };
}
