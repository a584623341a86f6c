/**
 * The review console in a real browser, end to end on the local sandbox (`npm start`'s startSandbox): a request
 * to a silo tenant that the model answers unsure goes to human review; a reviewer signs in to the console (dev
 * sign-in), picks the tenant, opens the pending review, approves it with an edit and a note, and sees the outcome;
 * the tenant API then answers `GET /v1/requests/{id}` with `reviewed` and the edited answer.
 *
 * Headless Chromium (Debian's `chromium`) driven by playwright-core. A screenshot of each page is saved under
 * build/screenshots/. Skipped, saying so in its name, only when no Chromium executable exists (`.ci/run`
 * installs it).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { DEMO_MARKERS, UNSURE_ANSWER } from '../../local/bedrock-demo';
import { type RunningSandbox, startSandbox } from '../../local/sandbox';
import { synthSwitchboard } from '../support/synth';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium } from './chromium';

const SHOTS = path.resolve(__dirname, '../../build/screenshots');
const TENANT = 'acme';
/** A prompt the sandbox model answers unsure, with markup that must stay text on the page. */
const PROMPT = `What is 2 + 2? <img src=x onerror="globalThis.__pwned=1"> ${DEMO_MARKERS.unsure}`;
const EDITED = '2 + 2 = 4.';
const NOTE = "The model's sum was wrong; corrected.";
const REVIEWER = 'dana.reviewer';

/** A base port with the next ten free (the sandbox puts its servers on consecutive ports). */
async function freeBasePort(): Promise<number> {
  const listenOn = (port: number) =>
    new Promise<net.Server | undefined>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const probe = await listenOn(0);
    const base = (probe!.address() as net.AddressInfo).port;
    await new Promise((r) => probe!.close(r));
    if (base > 65_000) continue;
    const held: net.Server[] = [];
    for (let p = base; p < base + 10; p++) {
      const s = await listenOn(p);
      if (!s) break;
      held.push(s);
    }
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    if (held.length === 10) return base;
  }
  throw new Error('no run of 10 free ports found');
}

/** Polls `check` until it returns a value, or fails with what it saw last. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms (${String(last ?? 'no value')})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

describeWithChromium('review console (headless Chromium, local sandbox)', () => {
  let sandbox: RunningSandbox;
  let browser: Browser;
  let dataDir: string;
  let outdir: string | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-console-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    // Chromium starts while the app is synthesized (synchronous) and the sandbox starts.
    const launched = chromium.launch({
      executablePath: CHROMIUM!,
      args: CHROMIUM_ARGS,
    });
    launched.catch(() => undefined); // awaited below; a launch failure fails the hook there
    outdir = synthSwitchboard({ compliance: false }).outdir;
    sandbox = await startSandbox({
      dataDir,
      fresh: true,
      port: await freeBasePort(),
      outdir,
      // Progress lines are kept by the quiet environment and shown only when a test fails.
      log: (line) => process.stdout.write(`${line}\n`),
    });
    browser = await launched;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
    for (const dir of [dataDir, outdir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const acme = () => {
    const t = sandbox.info.tenants.find((x) => x.id === TENANT);
    expect(t).toMatchObject({ isolation: 'silo' });
    return { ...t!, headers: { 'content-type': 'application/json', 'x-api-key': t!.apiKey } };
  };

  /** A request the model answers unsure: it waits for a person. */
  async function sendUnsure(tenant: ReturnType<typeof acme>) {
    const sent = await fetch(`${tenant.url}/v1/inference`, {
      method: 'POST',
      headers: tenant.headers,
      body: JSON.stringify({ prompt: PROMPT }),
    });
    const accepted = (await sent.json()) as { requestId: string; reviewId: string; status: string };
    expect([sent.status, accepted.status]).toEqual([202, 'pending_review']);
    return accepted;
  }

  /** The console's configuration as the sandbox serves it. */
  const consoleConfig = async () =>
    (await (await fetch(`${sandbox.info.reviewConsole.url}config.json`)).json()) as {
      tenants: Array<{ id: string; isolation: string; reviewApi: string | null }>;
    };

  /** A fresh browser page (its own session storage) that records the page's errors. */
  async function openPage() {
    const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
    });
    return { page, errors };
  }

  /** The request record as the tenant's caller sees it, once it has `status`. */
  const requestOnceSettled = (tenant: ReturnType<typeof acme>, requestId: string, status: string) =>
    eventually(`the request ${status}`, async () => {
      const res = await fetch(`${tenant.url}/v1/requests/${requestId}`, { headers: tenant.headers });
      const body = (await res.json()) as { status: string; output: string | null };
      return body.status === status ? body : undefined;
    });

  it('sends an unsure answer to review, and a reviewer approves it with an edit in the console', async () => {
    const tenant = acme();
    // 1. The request: the model is unsure, so the answer waits for a person.
    const accepted = await sendUnsure(tenant);
    const { page, errors: pageErrors } = await openPage();

    // 2. Sign in (dev sign-in of the sandbox).
    await page.goto(sandbox.info.reviewConsole.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(page, '1-sign-in');
    // Keyboard first: the name field has the focus, Enter signs in.
    await expect(page.locator(':focus').getAttribute('id')).resolves.toBe('reviewer-name');
    await page.keyboard.type(REVIEWER);
    await expect(page.getByLabel('Your name').inputValue()).resolves.toBe(REVIEWER);
    await page.getByLabel('Your name').press('Enter');

    // 3. Every tenant with human review is offered (silo and pooled); one without says why.
    await page.getByRole('heading', { name: 'Pick a tenant' }).waitFor();
    const config = await consoleConfig();
    const withReview = config.tenants.filter((t) => t.reviewApi).map((t) => `${t.id}${t.isolation}`);
    expect(withReview).toContain(`${TENANT}silo`);
    await expect(page.locator('#tenant-list a').allTextContents()).resolves.toEqual(withReview);
    const without = config.tenants.filter((t) => !t.reviewApi);
    await expect(page.locator('#tenant-list li.unavailable').allTextContents()).resolves.toEqual(
      without.map((t) => `${t.id}${t.isolation}no human review: this tenant's answers never go to a person`),
    );
    await shot(page, '1b-tenants');
    // Pick the tenant, then find the pending review (its workflow records it within moments).
    await page.getByRole('link', { name: new RegExp(`^${TENANT}\\b`) }).click();
    await page.getByRole('heading', { name: `Pending reviews of ${TENANT}` }).waitFor();
    const row = page.getByRole('row').filter({ hasText: accepted.reviewId });
    await eventually('the review in the pending list', async () => {
      if (await row.count()) return true;
      await page.getByRole('button', { name: /Refresh/ }).click();
      await page.waitForLoadState('networkidle');
      return undefined;
    });
    // Age and expiry are shown, and the prompt's markup is text.
    await expect(row.locator('td').nth(1).textContent()).resolves.toMatch(/under a minute|\d+ min/);
    await expect(row.locator('td').nth(2).textContent()).resolves.toMatch(/^in \d/);
    await expect(row.textContent()).resolves.toContain('<img src=x');
    await shot(page, '2-list');

    // 4. Open it: the request, the model's answer, the attempts with their signals, route and cascade reasons.
    await row.getByRole('link', { name: accepted.reviewId }).click();
    await page.getByRole('heading', { name: `Review ${accepted.reviewId}` }).waitFor();
    await expect(page.locator('#request-messages').textContent()).resolves.toContain(PROMPT);
    await expect(page.locator('#proposed').textContent()).resolves.toBe(UNSURE_ANSWER);
    const attempts = page.locator('#attempt-rows tr');
    expect(await attempts.count()).toBeGreaterThanOrEqual(1);
    await expect(attempts.last().textContent()).resolves.toMatch(/hedg|arithmetic/);
    const facts = (await page.locator('#review-facts').textContent()) ?? '';
    expect(facts).toMatch(/Route(router|auto|explicit): /);
    expect(facts).toMatch(/Expiresin \d/);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('#request-messages img').count()).toBe(0);
    await shot(page, '3-review');

    // 5. Edit the answer (the approve button says it sends the edit), add a note, approve from the keyboard.
    await page.getByLabel(/Answer to release/).fill(EDITED);
    await page.getByRole('button', { name: 'Approve with my edit' }).waitFor();
    await page.getByLabel(/Note for the record/).fill(NOTE);
    await page.getByLabel(/Note for the record/).press('Control+Enter');

    // 6. The outcome, on the page.
    const outcome = page.getByRole('region', { name: 'Outcome' });
    await outcome.waitFor({ timeout: 20_000 });
    await expect(outcome.textContent()).resolves.toMatch(/edited/);
    await expect(outcome.textContent()).resolves.toContain(REVIEWER);
    await expect(outcome.textContent()).resolves.toContain(NOTE);
    await expect(page.locator('#final-answer').textContent()).resolves.toBe(EDITED);
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/Approved with your edit/);
    await shot(page, '4-outcome');

    // 7. The caller sees the edited answer, reviewed.
    const record = await requestOnceSettled(tenant, accepted.requestId, 'reviewed');
    expect(record).toMatchObject({ status: 'reviewed', output: EDITED });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('tells a reviewer who decides too late who decided first, and shows the rejection', async () => {
    const tenant = acme();
    const accepted = await sendUnsure(tenant);
    const { page, errors } = await openPage();
    // A link straight to the review: sign-in first, then the review.
    await page.goto(`${sandbox.info.reviewConsole.url}#/t/${TENANT}/r/${accepted.reviewId}`);
    await page.getByLabel('Your name').fill(REVIEWER);
    await page.getByLabel('Your name').press('Enter');
    await page.getByRole('heading', { name: `Review ${accepted.reviewId}` }).waitFor();

    // Another reviewer rejects it through the review API meanwhile (once its workflow waits for a decision).
    const reviewApi = (await consoleConfig()).tenants.find((t) => t.id === TENANT)!.reviewApi!;
    const other = (await (
      await fetch(`${sandbox.info.reviewConsole.url}dev/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reviewer: 'sam.other' }),
      })
    ).json()) as { token: string };
    await eventually('the other decision', async () => {
      const res = await fetch(`${reviewApi}/${accepted.reviewId}/decision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${other.token}` },
        body: JSON.stringify({ action: 'reject', reviewer: 'sam.other', note: 'Off-topic request.' }),
      });
      return res.ok ? true : undefined;
    });

    // The late decision is refused with who decided, and the page then shows their outcome.
    await page.getByLabel(/Note for the record/).fill('Looks wrong to me too.');
    // From the keyboard: out of the text box, X goes to Reject (it does not press it), Enter presses it.
    await page.keyboard.press('Tab');
    await page.keyboard.press('x');
    await expect(page.locator(':focus').getAttribute('id')).resolves.toBe('reject');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(
      /already decided \(rejected by sam\.other at .*\) \(review_decided\)/,
    );
    await page.reload();
    const outcome = page.getByRole('region', { name: 'Outcome' });
    await outcome.waitFor();
    await expect(outcome.textContent()).resolves.toMatch(
      /rejected.*sam\.other.*Off-topic request\..*No answer released/s,
    );
    await expect(page.locator('#decision').isHidden()).resolves.toBe(true);

    expect(await requestOnceSettled(tenant, accepted.requestId, 'rejected')).toMatchObject({ output: null });
    // The refused decision is the one error the page reported (the API's 409).
    expect(errors.filter((e) => !/409/.test(e))).toEqual([]);
    await page.close();
  }, 30_000);
});
