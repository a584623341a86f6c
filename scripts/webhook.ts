/**
 * A tenant's review webhook, set and rotated out of band (README, "Webhooks"):
 *
 *   npm run webhook:set -- --tenant acme --url 'https://hooks.acme.example.com/T000/B000/XXXX'
 *   npm run webhook:rotate -- --tenant acme [--overlap-hours 24]
 *   npm run webhook:key -- --tenant acme
 *
 * Runs with the ordinary AWS credential chain (AWS_PROFILE, AWS_REGION) as one of the platform's
 * `webhookOperatorRoles`; `--tenants-dir` (default: tenants/) is where the tenant file declares the origin.
 * Prints neither the URL's path nor, except `rotate` and `key`, a key. Exit code 1 on a refusal.
 */
import * as path from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Resolver, systemResolver } from '../lambda/review/adapters/webhook-delivery';
import {
  MAX_OVERLAP_HOURS,
  rotateSigningKey,
  setWebhookUrl,
  signingKeys,
  WebhookCommandError,
} from './webhook/operations';

const USAGE = `usage:
  npm run webhook:set -- --tenant <id> --url <https://host/path>
  npm run webhook:rotate -- --tenant <id> [--overlap-hours <0-${MAX_OVERLAP_HOURS}, default 24>]
  npm run webhook:key -- --tenant <id>
  (each also takes --tenants-dir <dir>, default tenants/)`;

/** `--name value` pairs; anything else is an error. */
function options(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!;
    const v = argv[i + 1];
    if (!k.startsWith('--') || v === undefined)
      throw new WebhookCommandError(`unexpected ${JSON.stringify(k)}\n${USAGE}`);
    out[k.slice(2)] = v;
  }
  return out;
}

/** Runs one command; returns the lines to print. `resolve` is the system resolver unless a test passes another. */
export async function run(
  argv: readonly string[],
  client: SecretsManagerClient,
  resolve: Resolver = systemResolver,
): Promise<string[]> {
  const [command, ...rest] = argv;
  const o = options(rest);
  const tenant = o.tenant;
  if (!tenant) throw new WebhookCommandError(`--tenant is required\n${USAGE}`);
  const deps = {
    client,
    tenantsDir: path.resolve(o['tenants-dir'] ?? path.join(__dirname, '..', 'tenants')),
    resolve,
    now: Date.now,
  };
  switch (command) {
    case 'set': {
      if (!o.url) throw new WebhookCommandError(`--url is required\n${USAGE}`);
      const r = await setWebhookUrl(deps, tenant, o.url);
      return [
        `Webhook URL of ${tenant} set (on ${r.origin}) in ${r.secretArn}; deliveries use it within a minute.`,
        ...(r.warning ? [`Warning: ${r.warning}`] : []),
      ];
    }
    case 'rotate': {
      const r = await rotateSigningKey(
        deps,
        tenant,
        o['overlap-hours'] === undefined ? 24 : Number(o['overlap-hours']),
      );
      return [
        `New signing key of ${tenant} (give it to the receiver; verification: README, "Webhooks"):`,
        r.signingKey,
        r.previousUntil
          ? `The previous key also signs every delivery until ${r.previousUntil}.`
          : 'The previous key no longer signs.',
      ];
    }
    case 'key': {
      const r = await signingKeys(deps, tenant);
      return [
        `Signing key${r.keys.length > 1 ? 's (current, then the previous one while the rotation overlap lasts)' : ''} of ${tenant}:`,
        ...r.keys,
        r.urlOrigin ? `URL set on ${r.urlOrigin}` : 'No URL set yet: npm run webhook:set',
      ];
    }
    default:
      throw new WebhookCommandError(USAGE);
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new SecretsManagerClient({ maxAttempts: 3 });
  try {
    for (const line of await run(process.argv.slice(2), client)) process.stdout.write(`${line}\n`);
  } catch (e) {
    const err = e as Error;
    // Refusals and AWS errors by name and message; never a stack trace.
    process.stderr.write(
      `${err.name === 'WebhookCommandError' || err.name === 'TenantConfigError' ? '' : `${err.name}: `}${err.message}\n`,
    );
    process.exitCode = 1;
  } finally {
    client.destroy();
  }
}

if (require.main === module) void main();
