/**
 * Webhook delivery with real parts on loopback: an HTTPS receiver with a self-signed certificate for
 * hooks.example.com, the real Secrets Manager client against the Secrets Manager stand-in, and the README's
 * own signature check. Name resolution is the one injected part (a table): the address policy that judges its
 * answers is the production one.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { deliver, type Resolver, resolveChecked, WebhookError } from '../../../lambda/review/adapters/webhook-delivery';
import { makeSecretsManagerWebhookSecret } from '../../../lambda/review/adapters/webhook-secret';
import { makeWebhookSender } from '../../../lambda/review/adapters/webhook-sender';
import type { WebhookSender } from '../../../lambda/review/core/ports';
import {
  DELIVERY_ID_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_TOLERANCE_SECONDS,
} from '../../../lambda/shared/webhook-signing';
import { readmeVerifier } from '../../support/readme-webhook-verifier';
import { SecretsManagerStandIn } from '../../support/secrets-manager-standin';
import { tableResolver, WebhookReceiver } from '../../support/webhook-receiver';

/** A public address (example.com's) the table resolver gives the test host; the agent carries it to loopback. */
const PUBLIC = '93.184.215.14';
const HOST = 'hooks.example.com';
const KEY = 'k'.repeat(40) + 'SIGNINGKEY';
const OLD_KEY = 'o'.repeat(40) + 'PREVIOUSKEY';

const receiver = new WebhookReceiver(HOST);
const sm = new SecretsManagerStandIn();
let client: SecretsManagerClient;
const verify = readmeVerifier();

const dns = (table: Record<string, string[]> = {}) => tableResolver({ [HOST]: [PUBLIC], ...table });

async function failure(p: Promise<unknown>): Promise<WebhookError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WebhookError);
    return e as WebhookError;
  }
  throw new Error('expected a WebhookError');
}

beforeAll(async () => {
  await Promise.all([receiver.start(), sm.start()]);
  client = new SecretsManagerClient({
    endpoint: sm.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await Promise.all([receiver.stop(), sm.stop()]);
});
beforeEach(() => {
  receiver.clear();
  sm.clear();
});

describe('resolution: every address of the host is checked before anything connects', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['169.254.169.254', /link-local \(instance metadata/],
    ['10.0.0.5', /private/],
    ['::1', /loopback/],
    ['::ffff:169.254.169.254', /IPv4-mapped/],
    ['fd00:ec2::254', /unique local/],
  ])('refuses a name that resolves to %s', async (address, why) => {
    const e = await failure(resolveChecked('rebind.example.com', tableResolver({ 'rebind.example.com': [address] })));
    expect(e.name).toBe('WebhookRefused');
    expect(e.message).toMatch(why);
  });

  it('refuses a name that resolves to one public and one private address (whichever comes first)', async () => {
    for (const order of [
      [PUBLIC, '10.0.0.5'],
      ['10.0.0.5', PUBLIC],
    ]) {
      const e = await failure(resolveChecked('mixed.example.com', tableResolver({ 'mixed.example.com': order })));
      expect(e.name).toBe('WebhookRefused');
      expect(e.message).toMatch(/10\.0\.0\.5 is private/);
    }
  });

  it('accepts a name whose every address is public; a name that does not resolve is a retryable failure', async () => {
    expect(await resolveChecked(HOST, dns({ [HOST]: [PUBLIC, '2606:4700::1111'] }))).toHaveLength(2);
    const e = await failure(resolveChecked('nowhere.example.com', dns()));
    expect(e.name).toBe('WebhookFailed');
    expect(e.message).toMatch(/ENOTFOUND/);
  });

  it('delivers nothing and opens no connection when the host resolves to a refused address', async () => {
    const e = await failure(
      deliver({
        url: `https://${HOST}/hook`,
        body: '{}',
        headers: {},
        timeoutMs: 2_000,
        resolve: tableResolver({ [HOST]: ['169.254.169.254'] }),
        agent: receiver.agent(),
      }),
    );
    expect(e.name).toBe('WebhookRefused');
    expect(receiver.connects).toEqual([]);
    expect(receiver.deliveries).toEqual([]);
  });
});

describe('delivery', () => {
  const post = (over: Partial<Parameters<typeof deliver>[0]> = {}) =>
    deliver({
      url: `https://${HOST}/T0/abc?x=1`,
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
      timeoutMs: 2_000,
      resolve: dns(),
      agent: receiver.agent(),
      ...over,
    });

  it('connects to the checked address (pinned), sends the host name for SNI and the certificate check, and posts the body', async () => {
    const r = await post();
    expect(r).toEqual({ status: 200, address: PUBLIC });
    expect(receiver.connects).toEqual([{ host: HOST, servername: HOST, port: 443, address: PUBLIC }]);
    expect(receiver.deliveries).toHaveLength(1);
    expect(receiver.deliveries[0]).toMatchObject({ path: '/T0/abc?x=1', rawBody: '{"a":1}' });
    expect(receiver.deliveries[0]!.headers.host).toBe(HOST);
  });

  it('fails when the certificate does not name the host (pinning does not skip verification)', async () => {
    const e = await failure(
      post({ url: 'https://other.example.com/hook', resolve: dns({ 'other.example.com': [PUBLIC] }) }),
    );
    expect(e.name).toBe('WebhookFailed');
    expect(e.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('refuses a URL the policy refuses before resolving it', async () => {
    const asked: string[] = [];
    for (const url of [
      'https://169.254.169.254/',
      'https://0x7f000001/',
      'https://user:pass@hooks.example.com/',
      'http://hooks.example.com/',
    ]) {
      const e = await failure(post({ url, resolve: tableResolver({}, asked) }));
      expect(e.name).toBe('WebhookRefused');
    }
    expect(asked).toEqual([]);
    expect(receiver.connects).toEqual([]);
  });

  it('gives up after its deadline when the receiver never answers', async () => {
    receiver.behaviour = { kind: 'hang' };
    const started = Date.now();
    const e = await failure(post({ timeoutMs: 300 }));
    expect(e.name).toBe('WebhookFailed');
    expect(e.message).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reads at most a few KiB of the answer (a 50 MB answer costs no memory or time)', async () => {
    receiver.behaviour = { kind: 'flood', bytes: 50 * 1024 * 1024 };
    const started = Date.now();
    expect((await post()).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    // The receiver wrote what the socket buffers took before the client hung up, far from 50 MB.
    await new Promise((r) => setTimeout(r, 50));
    expect(receiver.floodWritten).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('signed delivery from the webhook secret', () => {
  const SECRET = 'switchboard/acme/webhook-1a2b3c4d';
  let clock = Date.parse('2026-12-02T10:00:00Z');
  const sender = (resolve: Resolver = dns()): WebhookSender =>
    makeWebhookSender({
      origin: `https://${HOST}`,
      secret: makeSecretsManagerWebhookSecret(client, SECRET, () => clock, 0),
      resolve,
      agent: () => receiver.agent(),
      now: () => clock,
    });
  const store = (v: object) => sm.put(SECRET, JSON.stringify(v));
  const event = { deliveryId: 'rev_abc:review.completed', payload: { event: 'review.completed', outcome: 'approved' } };

  it('signs every delivery: the README check accepts it and refuses a tampered body, another key or an old timestamp', async () => {
    store({ url: `https://${HOST}/T0/abc`, signingKey: KEY });
    expect(await sender().send(event)).toEqual({ status: 200 });
    const d = receiver.deliveries[0]!;
    expect(d.headers[DELIVERY_ID_HEADER.toLowerCase()]).toBe(event.deliveryId);
    const sig = d.headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const now = Math.floor(clock / 1000);
    expect(verify(d.rawBody, sig, KEY, now)).toBe(true);
    expect(verify(Buffer.from(d.rawBody), sig, KEY, now)).toBe(true);
    expect(JSON.parse(d.rawBody)).toEqual(event.payload);
    // What an attacker or a mistake would change.
    expect(verify(d.rawBody.replace('approved', 'rejected'), sig, KEY, now)).toBe(false);
    expect(verify(`${d.rawBody} `, sig, KEY, now)).toBe(false);
    expect(verify(d.rawBody, sig, OLD_KEY, now)).toBe(false);
    expect(verify(d.rawBody, sig.replace(/t=\d+/, `t=${now + 1}`), KEY, now)).toBe(false);
    expect(verify(d.rawBody, undefined, KEY, now)).toBe(false);
    expect(verify(d.rawBody, 'v1=00', KEY, now)).toBe(false);
    // Replayed later than the tolerance: refused.
    expect(verify(d.rawBody, sig, KEY, now + SIGNATURE_TOLERANCE_SECONDS)).toBe(true);
    expect(verify(d.rawBody, sig, KEY, now + SIGNATURE_TOLERANCE_SECONDS + 1)).toBe(false);
  });

  it('signs with both keys while a rotation overlap lasts, then with the new key only', async () => {
    store({
      url: `https://${HOST}/T0/abc`,
      signingKey: KEY,
      previousSigningKey: OLD_KEY,
      previousSigningKeyExpiresAt: new Date(clock + 3_600_000).toISOString(),
    });
    await sender().send(event);
    const during = receiver.deliveries[0]!;
    const now = Math.floor(clock / 1000);
    const sig = during.headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(sig.split(',').filter((f) => f.startsWith('v1='))).toHaveLength(2);
    expect(verify(during.rawBody, sig, KEY, now)).toBe(true);
    expect(verify(during.rawBody, sig, OLD_KEY, now)).toBe(true);
    clock += 3_600_001;
    await sender().send(event);
    const after = receiver.deliveries[1]!;
    const later = after.headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(verify(after.rawBody, later, KEY, Math.floor(clock / 1000))).toBe(true);
    expect(verify(after.rawBody, later, OLD_KEY, Math.floor(clock / 1000))).toBe(false);
  });

  it('refuses a stored URL on another origin than the tenant file declares, or one the policy refuses, without connecting', async () => {
    for (const url of [
      'https://attacker.example.net/collect',
      `https://${HOST}:8443/T0`,
      'https://169.254.169.254/latest/meta-data/',
      `https://user:pw@${HOST}/x`,
    ]) {
      store({ url, signingKey: KEY });
      const e = await failure(sender(dns({ 'attacker.example.net': [PUBLIC] })).send(event));
      expect({ url, name: e.name }).toEqual({ url, name: 'WebhookRefused' });
      expect(e.message).not.toContain('/collect');
    }
    expect(receiver.connects).toEqual([]);
  });

  it('says the URL is not set yet (the secret as CloudFormation creates it), and a malformed secret is not echoed', async () => {
    store({ url: '', signingKey: KEY });
    const notSet = await failure(sender().send(event));
    expect(notSet.name).toBe('WebhookNotConfigured');
    expect(notSet.message).toMatch(/npm run webhook:set/);
    store({ url: `https://${HOST}/x`, signingKey: 'short' });
    const bad = await failure(sender().send(event));
    expect(bad.name).toBe('WebhookNotConfigured');
    expect(bad.message).not.toContain('short');
    expect(receiver.connects).toEqual([]);
  });

  it('treats a redirect or an error status as a failed delivery (never followed)', async () => {
    store({ url: `https://${HOST}/T0/abc`, signingKey: KEY });
    receiver.behaviour = { kind: 'status', status: 302, headers: { location: 'https://169.254.169.254/' } };
    const redirected = await failure(sender().send(event));
    expect(redirected).toMatchObject({
      name: 'WebhookFailed',
      message: expect.stringMatching(/302; redirects are not followed/),
    });
    receiver.behaviour = { kind: 'status', status: 500 };
    expect((await failure(sender().send(event))).name).toBe('WebhookFailed');
    expect(receiver.deliveries).toHaveLength(2);
  });

  it('a secret that cannot be read is a retryable failure', async () => {
    store({ url: `https://${HOST}/T0/abc`, signingKey: KEY });
    sm.failWith = 'AccessDeniedException';
    const e = await failure(sender().send(event));
    expect(e).toMatchObject({ name: 'WebhookFailed', message: expect.stringMatching(/AccessDeniedException/) });
  });

  it('reads the secret once per cache period', async () => {
    store({ url: `https://${HOST}/T0/abc`, signingKey: KEY });
    const cached = makeWebhookSender({
      origin: `https://${HOST}`,
      secret: makeSecretsManagerWebhookSecret(client, SECRET, () => clock, 60_000),
      resolve: dns(),
      agent: () => receiver.agent(),
      now: () => clock,
    });
    await cached.send(event);
    await cached.send(event);
    clock += 60_001;
    await cached.send(event);
    expect(sm.calls.filter((c) => c.operation === 'GetSecretValue')).toHaveLength(2);
  });
});
