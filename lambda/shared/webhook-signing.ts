/**
 * How webhook deliveries are signed, and what the tenant's webhook secret holds: shared by the review steps
 * function (which signs and delivers), `npm run webhook:*` (which stores the URL and rotates the key) and the
 * tenant stack (which creates the secret).
 *
 * Every delivery carries
 *   Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(signing key, "<t>.<raw body>")>[,v1=<…>]
 *   Switchboard-Delivery-Id: <id>   (the same on every retry of one event: receivers deduplicate on it)
 * A second `v1` is signed with the previous key while a rotation's overlap lasts. Receivers recompute the HMAC
 * over the raw body bytes, compare in constant time, and refuse a `t` more than
 * {@link SIGNATURE_TOLERANCE_SECONDS} from their clock (README, "Webhooks", has the code).
 */
import { createHmac } from 'node:crypto';
import * as z from 'zod/mini';
import './zod-messages';

export const SIGNATURE_HEADER = 'Switchboard-Signature';
export const DELIVERY_ID_HEADER = 'Switchboard-Delivery-Id';
/** How far a receiver should accept a signature's timestamp from its own clock (replay window). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Length of a generated signing key (letters and digits: about 381 bits). */
export const SIGNING_KEY_CHARS = 64;
/** Shortest signing key the sender accepts (a hand-written secret of a few characters would be guessable). */
const SIGNING_KEY_MIN_CHARS = 32;

/** The hex HMAC-SHA256 of `<t>.<body>` under `key`. */
function signatureOf(key: string, t: number, body: string): string {
  return createHmac('sha256', key).update(`${t}.`).update(body).digest('hex');
}

/** The `Switchboard-Signature` header value: one `v1` per key (current first). */
export function signatureHeader(keys: readonly string[], t: number, body: string): string {
  return [`t=${t}`, ...keys.map((k) => `v1=${signatureOf(k, t, body)}`)].join(',');
}

/**
 * The webhook secret's value (JSON in Secrets Manager). `url` is empty until an operator sets it
 * (`npm run webhook:set`); `signingKey` is generated when the secret is created and replaced by
 * `npm run webhook:rotate`, which keeps the old key as `previousSigningKey` until `previousSigningKeyExpiresAt`.
 */
export const WebhookSecretSchema = z.object({
  url: z.string().check(z.maxLength(4096)),
  signingKey: z.string().check(z.minLength(SIGNING_KEY_MIN_CHARS), z.maxLength(512)),
  previousSigningKey: z.optional(z.string().check(z.minLength(SIGNING_KEY_MIN_CHARS), z.maxLength(512))),
  previousSigningKeyExpiresAt: z.optional(z.iso.datetime()),
});
export type WebhookSecretValue = z.infer<typeof WebhookSecretSchema>;

/** The keys to sign with at `nowMs`: the current one, and the previous one while its overlap lasts. */
export function signingKeysAt(v: WebhookSecretValue, nowMs: number): string[] {
  const previous =
    v.previousSigningKey && v.previousSigningKeyExpiresAt && Date.parse(v.previousSigningKeyExpiresAt) > nowMs
      ? [v.previousSigningKey]
      : [];
  return [v.signingKey, ...previous];
}

/** Where the webhook secret's generated key goes, and the JSON it starts from (CloudFormation generates it). */
export const GENERATED_SECRET = {
  template: JSON.stringify({ url: '' }),
  key: 'signingKey',
  length: SIGNING_KEY_CHARS,
} as const;

/** The name prefix of a tenant's webhook secret (the name ends in a suffix new with every stack). */
export function webhookSecretNamePrefix(tenantId: string): string {
  return `switchboard/${tenantId}/webhook-`;
}
