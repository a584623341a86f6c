/**
 * The review console's AWS sign-in in a real browser: Cognito managed login (authorization code with PKCE) against a
 * loopback stand-in of its two endpoints (cognito-standin.ts). The console keeps the ID token and offers exactly the
 * tenants whose reviewer group (`tenant-<id>`, reviewer-claims.ts) the token names; a forged return is refused.
 * Skipped, saying so, only when no Chromium executable exists.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { reviewerGroupName } from '../../lambda/review/http/reviewer-claims';
import { LoopbackHttpServer } from '../../local/loopback-http-server';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium } from './chromium';
import { CognitoStandIn } from './cognito-standin';

const CONSOLE_DIR = path.resolve(__dirname, '../../console');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** The console's files and a config.json, as the review API would serve them in AWS. */
class ConsoleFiles extends LoopbackHttpServer {
  config: unknown = {};
  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    const { pathname } = new URL(req.url ?? '/', this.endpoint);
    if (pathname === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.config));
      return;
    }
    const name = pathname === '/' ? 'index.html' : pathname.slice(1);
    if (!['index.html', 'app.js', 'app.css'].includes(name)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(name)]! });
    res.end(fs.readFileSync(path.join(CONSOLE_DIR, name)));
  }
}

describeWithChromium('review console: Cognito sign-in (headless Chromium)', () => {
  const site = new ConsoleFiles();
  let cognito: CognitoStandIn;
  let browser: Browser;
  let home: string;

  beforeAll(async () => {
    const launched = chromium.launch({ executablePath: CHROMIUM!, args: CHROMIUM_ARGS });
    launched.catch(() => undefined); // awaited below
    home = `${await site.start()}/`;
    cognito = new CognitoStandIn(
      { clientId: 'console-client', callbackUrls: [home] },
      {
        sub: '5f1e6c1a-0000-4000-8000-000000000001',
        email: 'ana@acme.example.com',
        username: 'ana',
        groups: [reviewerGroupName('acme'), reviewerGroupName('initech'), 'admins'],
      },
      new URL(home).origin,
    );
    await cognito.start();
    const api = (id: string) => `https://${id}.execute-api.eu-west-1.amazonaws.com/prod/v1/reviews`;
    site.config = {
      signIn: { kind: 'cognito', domain: cognito.endpoint, clientId: 'console-client', redirectUri: home },
      tenants: ['acme', 'globex', 'initech'].map((id) => ({ id, isolation: 'silo', reviewApi: api(id) })),
    };
    browser = await launched;
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await cognito?.stop();
    await site.stop();
  });

  it('signs in with the authorization code and PKCE, and offers only the tenants of the groups in the token', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(home);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Pick a tenant' }).waitFor();
    expect(cognito.exchanges).toEqual([{ clientId: 'console-client', verifierMatched: true }]);
    // Back on the console without the code in its address.
    expect(new URL(page.url()).search).toBe('');
    await expect(page.locator('#who-name').textContent()).resolves.toBe('Signed in as ana@acme.example.com');
    const tenants = await page.locator('#tenant-list a').allTextContents();
    expect(tenants.map((t) => t.replace(/silo$/, ''))).toEqual(['acme', 'initech']);

    // A tenant outside the reviewer's groups is refused by name, even through its link.
    await page.goto(`${home}#/t/globex`);
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'You may not review tenant "globex", or it does not exist.',
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses a return from sign-in it did not start (forged code or state) without calling Cognito', async () => {
    const page = await browser.newPage();
    const before = cognito.exchanges.length;
    await page.goto(`${home}?code=forged&state=forged`);
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Sign-in could not be completed; try again.');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(cognito.exchanges.length).toBe(before);
    await page.close();
  });
});
