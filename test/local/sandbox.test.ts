/**
 * `npm start` (local/sandbox.ts, scripts/start.ts) as a user meets it: the tenants' APIs answer with their keys and
 * refuse without, a pooled tenant is served, an unsure answer goes to review and shows in the review API for the
 * sandbox token only, data survives a restart and `fresh` drops it, stopping frees every port, a taken port is named.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_MARKERS } from '../../local/bedrock-demo';
import { portFree, type RunningSandbox, type SandboxInfo, startSandbox } from '../../local/sandbox';
import { REPO_ROOT, synthSwitchboard } from '../support/synth';

/** Ports of the sandbox: the console, then one per API (control plane, pool cell, three silo tenants). */
const PORTS = 6;

/** A base port with PORTS free ports from it. */
async function freeBasePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    if (base + PORTS > 65_000) continue;
    const free = await Promise.all(Array.from({ length: PORTS }, (_, k) => portFree(base + k)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range');
}

const tenant = (info: SandboxInfo, id: string) => {
  const t = info.tenants.find((x) => x.id === id);
  if (!t) throw new Error(`no tenant ${id} in ${JSON.stringify(info.tenants.map((x) => x.id))}`);
  return t;
};

async function infer(url: string, apiKey: string | undefined, prompt: string) {
  const res = await fetch(`${url}/v1/inference`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: JSON.stringify({ prompt }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
}

/**
 * Posts a decision, as a console would: the workflow records a review, then waits for its decision, a moment after
 * the answer (as in AWS), and until then the review API answers 404, then 409 review_not_ready ("retry in a few
 * seconds").
 */
async function decide(reviewUrl: string, token: string, decision: object): Promise<Response> {
  let res = new Response(null, { status: 404 });
  for (let i = 0; i < 50; i++) {
    res = await fetch(`${reviewUrl}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(decision),
    });
    if (res.status !== 404 && res.status !== 409) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return res;
}

let outdir: string;
let dataDir: string;
let port: number;
let sandbox: RunningSandbox | undefined;

beforeAll(async () => {
  outdir = synthSwitchboard({ compliance: false }).outdir;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-sandbox-'));
  port = await freeBasePort();
  sandbox = await startSandbox({ dataDir, port, outdir });
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a started sandbox', () => {
  it('lists every sample tenant, with its URL and key, in sandbox.json', () => {
    const info = sandbox!.info;
    expect(info.tenants.map((t) => `${t.id}:${t.isolation}`).sort()).toEqual([
      'acme:silo',
      'globex:silo',
      'hooli:pool',
      'initech:silo',
      'umbrella:pool',
    ]);
    const written = JSON.parse(fs.readFileSync(path.join(dataDir, 'sandbox.json'), 'utf8')) as SandboxInfo;
    expect(written.controlPlane).toEqual(info.controlPlane);
    expect(written.tenants.map((t) => [t.id, t.url, t.apiKey])).toEqual(
      info.tenants.map((t) => [t.id, t.url, t.apiKey]),
    );
    expect(info.reviewConsole.url).toBe(`http://127.0.0.1:${port}/`);
  });

  it('answers a silo tenant with its key (the printed curl line), and refuses without it', async () => {
    const acme = tenant(sandbox!.info, 'acme');
    const ok = await infer(acme.url, acme.apiKey, 'Hello, Switchboard');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'completed', output: expect.stringContaining('Sandbox answer') });
    const refused = await infer(acme.url, undefined, 'Hello, Switchboard');
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('forbidden');
    const otherKey = await infer(acme.url, tenant(sandbox!.info, 'globex').apiKey, 'Hello');
    expect(otherKey.status).toBe(403);
  });

  it('serves a pooled tenant onboarded through the control plane, through the pool authorizer', async () => {
    const hooli = tenant(sandbox!.info, 'hooli');
    const ok = await infer(hooli.url, hooli.apiKey, 'Hello from the pool');
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('completed');
    const bad = await infer(hooli.url, 'sbk_not-a-key-of-anyone-at-all-0000000000000', 'Hello');
    expect([401, 403]).toContain(bad.status);
    const list = await fetch(`${sandbox!.info.controlPlane.url}/v1/tenants`, {
      headers: { authorization: `Bearer ${sandbox!.info.controlPlane.token}` },
    });
    expect(list.status).toBe(200);
    const ids = ((await list.json()) as { tenants: Array<{ tenantId: string }> }).tenants.map((t) => t.tenantId);
    expect(ids).toEqual(expect.arrayContaining(['hooli', 'umbrella']));
  });

  it('sends an unsure answer up the cascade to review; the review API lists it for the sandbox token only', async () => {
    const acme = tenant(sandbox!.info, 'acme');
    const res = await infer(acme.url, acme.apiKey, `What is 2 + 2? ${DEMO_MARKERS.unsure}`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'pending_review', escalated: true });
    const reviewId = res.body.reviewId as string;
    const reviews = `${acme.url}/v1/reviews`;
    let listed: string[] = [];
    for (let i = 0; i < 50 && !listed.includes(reviewId); i++) {
      const r = await fetch(reviews, {
        headers: { authorization: `Bearer ${sandbox!.info.controlPlane.token}`, 'x-sandbox-user': 'alice' },
      });
      expect(r.status).toBe(200);
      listed = ((await r.json()) as { reviews: Array<{ reviewId: string }> }).reviews.map((x) => x.reviewId);
      if (!listed.includes(reviewId)) await new Promise((done) => setTimeout(done, 100));
    }
    expect(listed).toContain(reviewId);
    for (const authorization of ['Bearer wrong-token', '', `Basic ${sandbox!.info.controlPlane.token}`]) {
      const refused = await fetch(reviews, { headers: authorization ? { authorization } : {} });
      expect(refused.status).toBe(403);
    }
    const config = (await (await fetch(`${sandbox!.info.reviewConsole.url}config.json`)).json()) as {
      tenants: Array<{ id: string; reviewApi: string | null }>;
    };
    expect(config.tenants.find((t) => t.id === 'acme')?.reviewApi).toBe(reviews);
    // The console (another origin) may call the review API from a browser: preflight and answer allow its origin.
    const origin = sandbox!.info.reviewConsole.url.replace(/\/$/, '');
    const preflight = await fetch(reviews, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const fromConsole = await fetch(reviews, {
      headers: { origin, authorization: `Bearer ${sandbox!.info.controlPlane.token}` },
    });
    expect(fromConsole.headers.get('access-control-allow-origin')).toBe(origin);
    const elsewhere = await fetch(reviews, {
      headers: { origin: 'http://evil.example', authorization: `Bearer ${sandbox!.info.controlPlane.token}` },
    });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    const signIn = await fetch(`${sandbox!.info.reviewConsole.url}dev/sign-in`, {
      method: 'POST',
      body: JSON.stringify({ reviewer: 'alice' }),
    });
    expect(await signIn.json()).toEqual({ token: sandbox!.info.controlPlane.token, reviewer: 'alice' });
  });

  it("reviews a pooled tenant that opts in through its cell's review API (the console's reviewApi)", async () => {
    const hooli = tenant(sandbox!.info, 'hooli');
    const res = await infer(hooli.url, hooli.apiKey, `What is 2 + 2? ${DEMO_MARKERS.unsure}`);
    expect(res.body.status).toBe('pending_review');
    const config = (await (await fetch(`${sandbox!.info.reviewConsole.url}config.json`)).json()) as {
      tenants: Array<{ id: string; reviewApi: string | null }>;
    };
    const reviewApi = config.tenants.find((t) => t.id === 'hooli')?.reviewApi;
    expect(reviewApi).toBe(`${hooli.url}/v1/tenants/hooli/reviews`);
    // umbrella does not opt in to human review: no review API for it.
    expect(config.tenants.find((t) => t.id === 'umbrella')?.reviewApi).toBeNull();
    const decided = await decide(`${reviewApi}/${res.body.reviewId}`, sandbox!.info.controlPlane.token, {
      action: 'approve',
      reviewer: 'alice',
    });
    expect(decided.status).toBe(200);
    let after: { status?: string } = {};
    for (let i = 0; i < 50 && after.status !== 'reviewed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const got = await fetch(`${hooli.url}/v1/requests/${res.body.requestId}`, {
        headers: { 'x-api-key': hooli.apiKey },
      });
      after = (await got.json()) as typeof after;
    }
    expect(after.status).toBe('reviewed');
  });

  it("serves the AWS console routes from the templates: Cognito's reviewer routes take the sandbox token only (401 otherwise), the files are public", async () => {
    const acme = tenant(sandbox!.info, 'acme');
    const token = sandbox!.info.controlPlane.token;
    const reviewer = await fetch(`${acme.url}/v1/reviewer/reviews`, { headers: { authorization: `Bearer ${token}` } });
    expect(reviewer.status).toBe(200);
    expect(Array.isArray(((await reviewer.json()) as { reviews: unknown[] }).reviews)).toBe(true);
    for (const authorization of ['', 'Bearer wrong-token']) {
      const r = await fetch(`${acme.url}/v1/reviewer/reviews`, { headers: { authorization } });
      expect({ authorization, status: r.status }).toEqual({ authorization, status: 401 });
    }
    const page = await fetch(`${acme.url}/console/index.html`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    // No sign-in domain is configured locally (platform setting reviewerSignInDomainPrefix): the AWS console says so.
    const config = (await (await fetch(`${acme.url}/console/config.json`)).json()) as {
      signIn: { kind: string };
      tenants: Array<{ id: string; reviewApi: string }>;
    };
    expect(config.signIn).toEqual({ kind: 'none' });
    expect(config.tenants.map((t) => t.id)).toEqual(['acme']);
    expect(config.tenants[0]!.reviewApi).toMatch(/\/v1\/reviewer\/reviews$/);
  });

  it('runs the housekeeping schedules of the templates with their input', async () => {
    const runs = await sandbox!.runSchedules();
    // Every tenant stack's and the pool cell's review sweep and ledger reconciliation.
    expect(runs.map((r) => r.rule.split('/')[0]).sort()).toEqual([
      'Switchboard-Pool-1',
      'Switchboard-Pool-1',
      'Switchboard-Tenant-acme',
      'Switchboard-Tenant-acme',
      'Switchboard-Tenant-globex',
      'Switchboard-Tenant-globex',
      'Switchboard-Tenant-initech',
      'Switchboard-Tenant-initech',
    ]);
    expect(runs.filter((r) => !r.ok)).toEqual([]);
  });
});

describe('restarts and stopping', () => {
  it('keeps requests and reviews across a restart, drops them with fresh, and frees every port on stop', async () => {
    const acme = tenant(sandbox!.info, 'acme');
    const hooliKey = tenant(sandbox!.info, 'hooli').apiKey;
    const done = await infer(acme.url, acme.apiKey, 'Remember me');
    const requestId = done.body.requestId as string;
    const unsure = await infer(acme.url, acme.apiKey, `Decide me after a restart ${DEMO_MARKERS.unsure}`);
    expect(unsure.body.status).toBe('pending_review');
    const started = Date.now();
    await sandbox!.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    const free = await Promise.all(Array.from({ length: PORTS }, (_, k) => portFree(port + k)));
    expect(free).toEqual(Array(PORTS).fill(true));

    sandbox = await startSandbox({ dataDir, port, outdir });
    const again = tenant(sandbox.info, 'acme');
    expect(again.apiKey).toBe(acme.apiKey);
    expect(tenant(sandbox.info, 'hooli').apiKey).toBe(hooliKey);
    const kept = await fetch(`${again.url}/v1/requests/${requestId}`, { headers: { 'x-api-key': again.apiKey } });
    expect(kept.status).toBe(200);
    expect(((await kept.json()) as { requestId: string }).requestId).toBe(requestId);
    expect((await infer(again.url, tenant(sandbox.info, 'hooli').apiKey, 'Hi')).status).toBe(403);
    // The review waiting before the restart can still be decided, and the request gets the answer.
    const decided = await decide(`${again.url}/v1/reviews/${unsure.body.reviewId}`, sandbox.info.controlPlane.token, {
      action: 'edit',
      answer: 'Four.',
      reviewer: 'alice',
    });
    expect(decided.status).toBe(200);
    let after: { status?: string; output?: string } = {};
    for (let i = 0; i < 50 && after.status !== 'reviewed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await fetch(`${again.url}/v1/requests/${unsure.body.requestId}`, {
        headers: { 'x-api-key': again.apiKey },
      });
      after = (await res.json()) as typeof after;
    }
    expect(after).toMatchObject({ status: 'reviewed', output: 'Four.' });
    await sandbox.stop();

    sandbox = await startSandbox({ dataDir, port, outdir, fresh: true });
    const fresh = tenant(sandbox.info, 'acme');
    const gone = await fetch(`${fresh.url}/v1/requests/${requestId}`, { headers: { 'x-api-key': fresh.apiKey } });
    expect(gone.status).toBe(404);
    const hooli = tenant(sandbox.info, 'hooli');
    expect((await infer(hooli.url, hooli.apiKey, 'Hello again')).status).toBe(200);
  }, 60_000);

  it('refuses a second sandbox on the same data dir, naming the one running', async () => {
    await expect(startSandbox({ dataDir, port: port + 100, outdir })).rejects.toThrow(
      new RegExp(`Another sandbox \\(process ${process.pid}\\) is running with`),
    );
    expect(
      (await infer(tenant(sandbox!.info, 'acme').url, tenant(sandbox!.info, 'acme').apiKey, 'still here')).status,
    ).toBe(200);
  });

  it('names a port that is taken and the --port option', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-sandbox-busy-'));
    try {
      await expect(startSandbox({ dataDir: other, port: port + 1, outdir })).rejects.toThrow(
        new RegExp(`Port ${port + 1} .*already in use.*--port <n>`),
      );
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('npm start (scripts/start.ts)', () => {
  it('gets ready and stops on SIGINT within 5 s, leaving its ports free', async () => {
    await sandbox?.stop();
    sandbox = undefined;
    const cliData = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-sandbox-cli-'));
    const base = await freeBasePort();
    const child = spawn(
      path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      ['scripts/start.ts', '--port', String(base)],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, SWITCHBOARD_SANDBOX_DATA_DIR: cliData, SWITCHBOARD_SANDBOX_CDK_OUT: outdir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !/ready in/.test(out) && child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).toMatch(/ready in/);
      expect(out).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/live\/v1\/inference -H 'x-api-key: sbx-acme-/);
      const sent = Date.now();
      child.kill('SIGINT');
      const code = await exited;
      expect(Date.now() - sent).toBeLessThan(5_000);
      expect(code).toBe(0);
      expect(await portFree(base)).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(cliData, { recursive: true, force: true });
    }
  }, 90_000);
});
