/**
 * `npm run webhook:set / webhook:rotate / webhook:key` against the Secrets Manager stand-in with the real SDK
 * client: the URL is checked with the delivery's own policy and the tenant file's origin, its host must resolve
 * to public addresses only, the signing key survives a URL change, a rotation keeps the old key signing for the
 * overlap, and nothing printed holds the URL's path.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { signingKeysAt, WebhookSecretSchema } from '../../lambda/shared/webhook-signing';
import { run } from '../../scripts/webhook';
import { SecretsManagerStandIn } from '../support/secrets-manager-standin';
import { tenantDir } from '../support/synth';
import { tableResolver } from '../support/webhook-receiver';

const sm = new SecretsManagerStandIn();
let client: SecretsManagerClient;
const KEY = 'GeneratedByCloudFormation0123456789abcdefghijklmnopqrstuvwxyzABCD';
const NAME = 'switchboard/acme/webhook-9f8e7d6c';
const URL_PATH = '/T000/B000/s3cr3tT0k3n';
const dir = tenantDir({
  acme: 'id: acme\nplan: standard\nescalation:\n  reviewerEmails: [r@example.com]\n  webhook: { origin: https://hooks.acme.example.com }\n',
  plain: 'id: plain\nplan: standard\nescalation:\n  reviewerEmails: [r@example.com]\n',
});
const dns = tableResolver({
  'hooks.acme.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
});
const cli = (args: string[], resolve = dns) => run([...args, '--tenants-dir', dir], client, resolve);
const stored = () => WebhookSecretSchema.parse(JSON.parse(sm.value(NAME)!));

async function refusal(args: string[], resolve = dns): Promise<string> {
  try {
    await cli(args, resolve);
  } catch (e) {
    expect((e as Error).name).toMatch(/WebhookCommandError|TenantConfigError/);
    return (e as Error).message;
  }
  throw new Error(`accepted ${args.join(' ')}`);
}

beforeAll(async () => {
  await sm.start();
  client = new SecretsManagerClient({
    endpoint: sm.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await sm.stop();
});
beforeEach(() => {
  sm.clear();
  // As CloudFormation creates it: a generated key, no URL.
  sm.put(NAME, JSON.stringify({ url: '', signingKey: KEY }));
  sm.put('switchboard/other/webhook-11111111', JSON.stringify({ url: '', signingKey: KEY }));
});

describe('webhook:set', () => {
  it('stores the URL and keeps the generated signing key; prints neither the path nor the key', async () => {
    const out = await cli(['set', '--tenant', 'acme', '--url', `https://hooks.acme.example.com${URL_PATH}?x=1`]);
    expect(stored()).toEqual({ url: `https://hooks.acme.example.com${URL_PATH}?x=1`, signingKey: KEY });
    expect(out.join('\n')).toMatch(/Webhook URL of acme set \(on https:\/\/hooks\.acme\.example\.com\)/);
    expect(out.join('\n')).not.toMatch(/s3cr3t|GeneratedBy/);
    // It found the tenant's secret by its name prefix, not another tenant's.
    expect(sm.calls.filter((c) => c.operation === 'PutSecretValue').map((c) => c.secretId)).toEqual([
      expect.stringContaining(`:secret:${NAME}-`),
    ]);
  });

  it.each([
    [
      'https://attacker.example.net/collect',
      /is on https:\/\/attacker\.example\.net, but tenants\/acme\.yaml declares https:\/\/hooks\.acme\.example\.com/,
    ],
    ['https://hooks.acme.example.com:8443/x', /declares https:\/\/hooks\.acme\.example\.com/],
    ['https://169.254.169.254/latest/meta-data/', /not an IP address/],
    ['https://user:pw@hooks.acme.example.com/x', /user name or password/],
    ['http://hooks.acme.example.com/x', /must start with https/],
  ])('refuses %s and leaves the secret as it was', async (url, why) => {
    expect(await refusal(['set', '--tenant', 'acme', '--url', url])).toMatch(why);
    expect(stored().url).toBe('');
    expect(sm.versions(NAME)).toBe(1);
  });

  it('refuses a host that resolves to any private or metadata address; a host that does not resolve yet is stored with a warning', async () => {
    const url = `https://hooks.acme.example.com${URL_PATH}`;
    for (const addresses of [['169.254.169.254'], ['93.184.215.14', '10.1.2.3'], ['::ffff:127.0.0.1']]) {
      const message = await refusal(
        ['set', '--tenant', 'acme', '--url', url],
        tableResolver({ 'hooks.acme.example.com': addresses }),
      );
      expect(message).toMatch(/resolves to a refused address/);
      expect(message).not.toContain('s3cr3t');
    }
    expect(stored().url).toBe('');
    const out = await cli(['set', '--tenant', 'acme', '--url', url], tableResolver({}));
    expect(out.join('\n')).toMatch(/Warning: hooks\.acme\.example\.com did not resolve \(ENOTFOUND\)/);
    expect(stored().url).toBe(url);
  });

  it('refuses a tenant whose file declares no webhook, and says when the stack (its secret) is missing', async () => {
    expect(await refusal(['set', '--tenant', 'plain', '--url', 'https://hooks.acme.example.com/x'])).toMatch(
      /declares no webhook: add escalation\.webhook\.origin/,
    );
    sm.clear();
    expect(await refusal(['set', '--tenant', 'acme', '--url', 'https://hooks.acme.example.com/x'])).toMatch(
      /No secret named switchboard\/acme\/webhook-… in this account and region/,
    );
  });
});

describe('webhook:rotate and webhook:key', () => {
  it('writes a new key and keeps the old one signing for the overlap; the URL stays', async () => {
    await cli(['set', '--tenant', 'acme', '--url', `https://hooks.acme.example.com${URL_PATH}`]);
    const before = Date.now();
    const out = await cli(['rotate', '--tenant', 'acme', '--overlap-hours', '2']);
    const v = stored();
    expect(v.signingKey).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(v.signingKey).not.toBe(KEY);
    expect(out).toContain(v.signingKey);
    expect(v.url).toBe(`https://hooks.acme.example.com${URL_PATH}`);
    expect(v.previousSigningKey).toBe(KEY);
    const until = Date.parse(v.previousSigningKeyExpiresAt!);
    expect(until - before).toBeGreaterThanOrEqual(2 * 3_600_000 - 1_000);
    expect(until - before).toBeLessThanOrEqual(2 * 3_600_000 + 5_000);
    // Deliveries carry both signatures until then, then only the new one.
    expect(signingKeysAt(v, until - 1)).toEqual([v.signingKey, KEY]);
    expect(signingKeysAt(v, until + 1)).toEqual([v.signingKey]);
    // webhook:key shows both while they sign, and never the URL's path.
    const shown = await cli(['key', '--tenant', 'acme']);
    expect(shown).toEqual(expect.arrayContaining([v.signingKey, KEY]));
    expect(shown.join('\n')).not.toContain('s3cr3t');
  });

  it('rotates without overlap when asked (0 hours), and refuses an overlap out of range', async () => {
    await cli(['rotate', '--tenant', 'acme', '--overlap-hours', '0']);
    const v = stored();
    expect(v.previousSigningKey).toBeUndefined();
    expect(v.signingKey).not.toBe(KEY);
    for (const bad of ['-1', '169', '1.5', 'soon']) {
      expect(await refusal(['rotate', '--tenant', 'acme', '--overlap-hours', bad])).toMatch(/--overlap-hours/);
    }
  });

  it('refuses unknown commands and missing options with the usage', async () => {
    expect(await refusal(['show', '--tenant', 'acme'])).toMatch(/usage:/);
    expect(await refusal(['set', '--tenant', 'acme'])).toMatch(/--url is required/);
    expect(await refusal(['set', '--url', 'https://hooks.acme.example.com/x'])).toMatch(/--tenant is required/);
  });
});
