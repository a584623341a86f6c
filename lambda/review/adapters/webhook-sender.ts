/**
 * Sends one webhook event: reads the tenant's webhook secret, checks that its URL is allowed and belongs to
 * the origin the tenant file declares (so a secret changed by someone else cannot send deliveries elsewhere),
 * signs the body (webhook-signing.ts) and delivers it to a checked address (webhook-delivery.ts). What the body
 * says is decided by the caller; this module only signs and delivers it.
 */
import type * as https from 'node:https';
import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, signatureHeader, signingKeysAt } from '../../shared/webhook-signing';
import { checkWebhookUrl } from '../../shared/webhook-url';
import type { WebhookSender } from '../core/ports';
import { deliver, type Resolver, WebhookError } from './webhook-delivery';
import type { WebhookSecretSource } from './webhook-secret';

/** How long one delivery may take (lookup, connect, TLS, answer). */
export const DELIVERY_TIMEOUT_MS = 5_000;

export interface WebhookSenderDeps {
  /** The origin the tenant file declares (`escalation.webhook.origin`). */
  readonly origin: string;
  readonly secret: WebhookSecretSource;
  readonly resolve: Resolver;
  /** @default - a new agent per delivery */
  readonly agent?: () => https.Agent;
  readonly now: () => number;
  /** @default DELIVERY_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/** Sends events to the tenant's webhook; throws a {@link WebhookError} when it did not get a 2xx. */
export function makeWebhookSender(deps: WebhookSenderDeps): WebhookSender {
  return {
    async send(event) {
      const secret = await deps.secret.get();
      if (secret.url === '') {
        throw new WebhookError(
          'WebhookNotConfigured',
          'The webhook URL is not set yet: run npm run webhook:set -- --tenant <id> --url <url> (README, "Webhooks")',
        );
      }
      const checked = checkWebhookUrl(secret.url, 'url');
      if (!checked.ok)
        throw new WebhookError('WebhookRefused', `The stored webhook URL is refused: it ${checked.problem}`);
      if (checked.origin !== deps.origin) {
        throw new WebhookError(
          'WebhookRefused',
          `The stored webhook URL is on ${checked.origin}, not on the tenant file's origin ${deps.origin}`,
        );
      }
      const body = JSON.stringify(event.payload);
      const nowMs = deps.now();
      const t = Math.floor(nowMs / 1000);
      const { status } = await deliver({
        url: secret.url,
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'switchboard-review/1',
          [DELIVERY_ID_HEADER]: event.deliveryId,
          [SIGNATURE_HEADER]: signatureHeader(signingKeysAt(secret, nowMs), t, body),
        },
        timeoutMs: deps.timeoutMs ?? DELIVERY_TIMEOUT_MS,
        resolve: deps.resolve,
        agent: deps.agent?.(),
      });
      if (status >= 300 && status < 400) {
        // A redirect is a failure, never followed: the secret names the one endpoint we may call.
        throw new WebhookError('WebhookFailed', `Webhook answered ${status}; redirects are not followed`);
      }
      if (status < 200 || status > 299) throw new WebhookError('WebhookFailed', `Webhook answered ${status}`);
      return { status };
    },
  };
}
