/**
 * The webhook URL policy (one module for the tenant-file loader, `npm run webhook:set` and the delivery): the
 * addresses the issue names and every other IP spelling are refused, public https names are accepted, the raw
 * text and the parsed URL must agree on the host, problems never repeat a path or query, and checking is linear
 * in the text (generated inputs, fixed seed).
 */
import fc from 'fast-check';
import { checkWebhookUrl, shownOrigin, WEBHOOK_URL_MAX_CHARS } from '../../../lambda/shared/webhook-url';

const refused = (text: string, kind: 'url' | 'origin' = 'url') => {
  const r = checkWebhookUrl(text, kind);
  return r.ok ? undefined : r.problem;
};

describe('webhook URL policy', () => {
  it.each([
    // The examples.
    ['https://169.254.169.254/', /not an IP address/],
    ['https://10.0.0.5/', /not an IP address/],
    ['https://0x7f000001/', /not an IP address/],
    ['https://user:pass@hooks.example.com/', /user name or password/],
    // Other spellings of IP addresses a URL parser accepts.
    ['https://2130706433/', /not an IP address/],
    ['https://0177.0.0.1/', /not an IP address/],
    ['https://127.1/', /not an IP address/],
    ['https://0x7f.0.0.1/', /not an IP address/],
    ['https://[::1]/', /not an IP address/],
    ['https://[::ffff:127.0.0.1]/', /not an IP address/],
    ['https://[::ffff:7f00:1]/', /not an IP address/],
    ['https://[fd00:ec2::254]/', /not an IP address/],
    ['https://user@hooks.example.com/', /user name or password/],
    // Local and internal names, single labels.
    ['https://localhost/', /public DNS name/],
    ['https://hooks.localhost/', /local or internal networks \(\.localhost\)/],
    ['https://metadata.google.internal/', /\.internal/],
    ['https://ip-10-0-0-5.ec2.internal/', /\.internal/],
    ['https://printer.local/', /\.local\b/],
    ['https://router.home.arpa/', /\.arpa/],
    ['https://intranet/', /public DNS name/],
    ['https://hooks.example.com./', /public DNS name/],
    ['https://hooks..example.com/', /public DNS name|not a valid URL/],
    ['https://-hooks.example.com/', /public DNS name/],
    ['https://hooks.example.c0m/', /public DNS name/],
    // Scheme, port, fragment.
    ['http://hooks.example.com/', /must start with https:\/\//],
    ['HTTPS://hooks.example.com/', /must start with https:\/\//],
    ['ftp://hooks.example.com/', /must start with https:\/\//],
    ['https://hooks.example.com:22/', /port 22 is not allowed/],
    ['https://hooks.example.com:80/', /port 80 is not allowed/],
    ['https://hooks.example.com:/', /port must be a number/],
    ['https://hooks.example.com/a#frag', /fragment/],
    // What a URL parser would rewrite into another host.
    ['https://evil.example\\@hooks.example.com/', /backslashes/],
    ['https://hooks.exa%6dple.com/', /not written as a plain DNS name/],
    ['https://hooks.example.com\t.evil.net/', /spaces/],
    ['https://hooks.ex\nample.com/', /spaces/],
    [' https://hooks.example.com/', /spaces/],
    ['https://bücher.example.com/', /xn--/],
    ['https://hooks.example.com/\u202Eabc', /printable ASCII/],
    [`https://hooks.example.com/${'a'.repeat(WEBHOOK_URL_MAX_CHARS)}`, /at most 2048 characters/],
  ])('refuses %j', (text, why) => {
    expect(refused(text)).toMatch(why);
  });

  it.each([
    ['https://hooks.example.com/T000/B000/XXXX?token=abc', 'https://hooks.example.com'],
    ['https://HOOKS.Example.COM/path', 'https://hooks.example.com'],
    ['https://hooks.example.com:443/x', 'https://hooks.example.com'],
    ['https://hooks.example.com:8443/x', 'https://hooks.example.com:8443'],
    ['https://a-1.b.example.co.uk/x', 'https://a-1.b.example.co.uk'],
    ['https://xn--bcher-kva.example/x', undefined], // .example is reserved
    ['https://xn--bcher-kva.de/x', 'https://xn--bcher-kva.de'],
    ['https://1password.com/hook', 'https://1password.com'],
  ])('accepts %j (origin %s)', (text, origin) => {
    const r = checkWebhookUrl(text, 'url');
    if (origin === undefined) expect(r.ok).toBe(false);
    else expect(r).toMatchObject({ ok: true, origin });
  });

  it('as an origin, accepts only scheme, host and port, and says why a path is refused', () => {
    expect(checkWebhookUrl('https://hooks.example.com', 'origin')).toMatchObject({ ok: true });
    expect(checkWebhookUrl('https://hooks.example.com/', 'origin')).toMatchObject({ ok: true });
    expect(checkWebhookUrl('https://hooks.example.com:8443', 'origin')).toMatchObject({ ok: true });
    for (const t of [
      'https://hooks.example.com/T0/secret',
      'https://hooks.example.com?key=s3cret',
      'https://hooks.example.com//',
    ]) {
      expect(refused(t, 'origin')).toMatch(/a path or query often carries a secret/);
    }
  });

  it('never repeats a path, query or password in a problem, nor in the shown origin', () => {
    const secret = 'S3CRET-TOKEN';
    for (const t of [
      `https://hooks.example.com/${secret}`,
      `https://hooks.example.com/?t=${secret}`,
      `https://user:${secret}@hooks.example.com/x`,
      `https://10.0.0.5/${secret}`,
      `http://hooks.example.com/${secret}`,
      `https://hooks.example.com:22/${secret}`,
    ]) {
      expect(refused(t, 'origin') ?? '').not.toContain(secret);
      expect(refused(t, 'url') ?? '').not.toContain(secret);
      expect(shownOrigin(t)).not.toContain(secret);
    }
  });

  it('the raw text and the parsed URL agree on the host of every accepted URL (generated texts)', () => {
    const chars = fc.constantFrom(...'abcx0179.-:/@?#[]%\\ \t'.split(''), 'example', 'com', '0x7f', '[::1]', 'ffff');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 30 }), (parts) => {
        const text = `https://${parts.join('')}`;
        const r = checkWebhookUrl(text, 'url');
        if (!r.ok) return;
        const authority = text.slice(8).split(/[/?#]/)[0]!;
        expect(authority.split(':')[0]!.toLowerCase()).toBe(r.host);
        expect(r.url.username + r.url.password).toBe('');
        expect(r.host).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
      }),
      { seed: 20261202, numRuns: 3000 },
    );
  });

  it('checks in time linear in the text (long hosts, labels, runs of dots and digits)', () => {
    const inputs = [
      `https://${'a.'.repeat(1000)}com/`,
      `https://${'1.'.repeat(1000)}1/`,
      `https://${'a'.repeat(2000)}.com/`,
      `https://hooks.example.com/${'%'.repeat(2000)}`,
      `https://${'-'.repeat(2000)}`,
      `https://${'[:'.repeat(1000)}`,
      `https://h.com:${'9'.repeat(2000)}`,
    ];
    const started = performance.now();
    for (let i = 0; i < 200; i++) for (const t of inputs) checkWebhookUrl(t, 'url');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
