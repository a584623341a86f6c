/**
 * `npm run control-plane` against the real control plane handler (registry on dynalite) behind a loopback HTTP
 * server playing API Gateway: it checks each request's SigV4 signature with the SDK's signer (a request that does
 * not match is answered 403, as API Gateway answers it), maps the path to the API's resource, path parameters and
 * query, and names the signer as the caller.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { LedgerKey, PooledLedgerPort } from '../../lambda/control-plane/core/ports';
import { makeControlPlaneHandler } from '../../lambda/control-plane/http/handler';
import { poolTenantPrefix } from '../../lambda/shared/pool-keys';
import { makeTelemetry } from '../../lambda/shared/telemetry';
import { run } from '../../scripts/control-plane';
import { CommandError, type CommandWorld } from '../../scripts/control-plane-client';
import { pooled, type RegistryHarness, registryServer } from '../lambda/control-plane/registry-harness';

const ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDPLATFORMOPS',
  AWS_SECRET_ACCESS_KEY: 'ops-secret',
  AWS_SESSION_TOKEN: 'ops-session',
  AWS_REGION: 'eu-west-1',
};
const OPS = 'arn:aws:iam::111122223333:user/AKIDPLATFORMOPS';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

const registry = registryServer();
const seen: Seen[] = [];
let h: RegistryHarness;
let api: http.Server;
let endpoint: string;

const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d);

/** node:crypto as the SDK signer's hash. */
class Sha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData) {
    this.h.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

/** Whether the request's `authorization` is the one the SDK's signer computes for it with the secret of ENV. */
async function signedWell(req: http.IncomingMessage, body: string): Promise<boolean> {
  const auth = String(req.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([a-z0-9-]+)\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/.exec(
      auth,
    );
  if (!m || m[1] !== ENV.AWS_ACCESS_KEY_ID) return false;
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const headers: Record<string, string> = {};
  for (const name of m[3]!.split(';')) headers[name] = String(req.headers[name] ?? '');
  const amzDate = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(headers['x-amz-date'] ?? '');
  if (!amzDate) return false;
  const [, y, mo, d, hh, mi, ss] = amzDate;
  const signer = new SignatureV4({
    service: 'execute-api',
    region: m[2]!,
    credentials: {
      accessKeyId: ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: ENV.AWS_SECRET_ACCESS_KEY,
      sessionToken: ENV.AWS_SESSION_TOKEN,
    },
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method ?? '',
      protocol: 'http:',
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(body ? { body } : {}),
    },
    { signingDate: new Date(`${y}-${mo}-${d}T${hh}:${mi}:${ss}Z`) },
  );
  return signed.headers.authorization === auth;
}

/** The proxy event API Gateway would pass for a request to `/prod/v1/tenants…`. */
function eventOf(req: http.IncomingMessage, body: string, caller: string): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://loopback');
  const p = url.pathname.replace(/^\/prod/, '');
  const [, id, sub = ''] = /^\/v1\/tenants\/([^/]+)(\/move)?$/.exec(p) ?? [];
  const query = Object.fromEntries(url.searchParams);
  return {
    resource: id !== undefined ? `/v1/tenants/{id}${sub}` : p,
    path: p,
    httpMethod: req.method,
    headers: { 'Content-Type': String(req.headers['content-type'] ?? '') },
    body: body || null,
    isBase64Encoded: false,
    pathParameters: id !== undefined ? { id: decodeURIComponent(id) } : null,
    queryStringParameters: Object.keys(query).length ? query : null,
    requestContext: { requestId: 'gw-1', identity: { userArn: caller } },
  } as unknown as APIGatewayProxyEvent;
}

beforeAll(async () => {
  await registry.start();
  api = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      if (!(await signedWell(req, body))) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided.' }),
        );
        return;
      }
      const handler = makeControlPlaneHandler(
        h.deps(),
        makeTelemetry({ tenantId: 'cp', service: 'cp', sink: () => {} }),
      );
      const out = await handler(eventOf(req, body, OPS));
      res.writeHead(out.statusCode, out.headers as http.OutgoingHttpHeaders).end(out.body);
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(api.address() as AddressInfo).port}/prod`;
});
afterAll(async () => {
  api.closeAllConnections();
  await new Promise<void>((r) => api.close(() => r()));
  await registry.stop();
});
beforeEach(async () => {
  h = await registry.harness();
  seen.length = 0;
});

const world = (env: NodeJS.ProcessEnv = ENV): CommandWorld => ({ env, fetch, now: Date.now });

/** The command's run, `--endpoint` added. */
const cp = (args: string[], env?: NodeJS.ProcessEnv) => run([...args, '--endpoint', endpoint], world(env));

async function onboard(id: string, extra: Record<string, unknown> = {}): Promise<void> {
  expect((await h.call({ method: 'POST', path: '/v1/tenants', body: pooled(id, extra) })).status).toBe(201);
}

describe('control-plane', () => {
  it('suspends a tenant with a signed PATCH; a GET then shows it suspended, and the listing takes its query', async () => {
    await onboard('acme');
    const patched = await cp(['PATCH', '/v1/tenants/acme', '--body', '{"suspend":true}']);
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['PATCH', '/prod/v1/tenants/acme', '{"suspend":true}'],
    ]);
    expect(patched.notes).toEqual([]);
    expect(patched.stdout).toHaveLength(1);
    expect(patched.stdout[0]).toBe(JSON.stringify(JSON.parse(patched.stdout[0]!), null, 2));
    expect(JSON.parse(patched.stdout[0]!).tenant).toMatchObject({ tenantId: 'acme', status: 'suspended' });

    const got = await cp(['GET', '/v1/tenants/acme']);
    expect(seen.at(-1)).toEqual({ method: 'GET', url: '/prod/v1/tenants/acme', body: '' });
    expect(JSON.parse(got.stdout[0]!).tenant).toMatchObject({ tenantId: 'acme', status: 'suspended' });
    expect((await h.registry.listAudit('acme')).map((a) => [a.action, a.who])).toContainEqual(['suspend', OPS]);

    await onboard('globex');
    const page = await cp(['GET', '/v1/tenants?limit=1']);
    expect(seen.at(-1)?.url).toBe('/prod/v1/tenants?limit=1');
    const listed = JSON.parse(page.stdout[0]!);
    expect(listed.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['acme']);
    const next = await cp(['GET', `/v1/tenants?limit=1&cursor=${listed.nextCursor}`]);
    expect(JSON.parse(next.stdout[0]!).tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['globex']);
  });

  it('refuses a bad method, path or body, an http endpoint or missing credentials before sending anything', async () => {
    const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
      [['PUT', '/v1/tenants/acme'], /^method: got "PUT"; must be one of GET, POST, PATCH, DELETE/],
      [['get', '/v1/tenants/acme'], /^method: got "get"/],
      [['GET', '/v1/tenants/../admin'], /^path: got "\/v1\/tenants\/\.\.\/admin"; no "\." or "\.\." segments/],
      [['GET', '/v1/tenants/acme/./move'], /no "\." or "\.\." segments/],
      [['GET', 'https://evil.example.com/v1/tenants'], /^path: .*must start with \/v1\/tenants/],
      [['GET', '//evil.example.com/v1/tenants'], /^path: .*must start with \/v1\/tenants/],
      [['GET', '/v2/tenants'], /must start with \/v1\/tenants/],
      [['GET', '/v1/tenantsx'], /^path: .*must be \/v1\/tenants, \/v1\/tenants\/<id>/],
      [['GET', '/v1/tenants/acme%2F..'], /^path: .*percent-encode/],
      [['GET', '/v1/tenants/a b'], /^path: /],
      [['GET', '/v1/tenants/acme#x'], /^path: /],
      [['GET', '/v1/tenants?limit=50&x'], /^path: /],
      [['GET', '/v1/tenants/acme/move/x'], /^path: /],
      [['GET', `/v1/tenants/${'a'.repeat(1100)}`], /^path: 1112 characters; at most 1024/],
      [['PATCH', '/v1/tenants/acme', '--body', '{suspend:true}'], /^--body: not JSON/],
      [['PATCH', '/v1/tenants/acme', '--body', '[{"suspend":true}]'], /^--body: must be a JSON object .*an array/],
      [['PATCH', '/v1/tenants/acme', '--body', 'true'], /^--body: must be a JSON object .*boolean/],
      [['PATCH', '/v1/tenants/acme', '--body', 'null'], /^--body: must be a JSON object .*null/],
      [
        ['PATCH', '/v1/tenants/acme', '--body', `{"x":"${'a'.repeat(64 * 1024)}"}`],
        /^--body: 65544 bytes; at most 65536/,
      ],
      [['PATCH', '/v1/tenants/acme'], /^--body: PATCH needs a JSON object/],
      [['GET', '/v1/tenants/acme', '--body', '{}'], /^--body: GET takes no body/],
      [['DELETE', '/v1/tenants/acme', '--body', '{}'], /^--body: DELETE takes no body/],
      [['GET', '/v1/tenants', '--body'], /^--body needs a value/],
      [['GET', '/v1/tenants', 'extra'], /^unexpected "extra"/],
      [['PATCH', '/v1/tenants/acme', '--body', '{}', '--body', '{"suspend":true}'], /^--body given twice/],
      [['GET', '/v1/tenants/acme'], /^No AWS credentials/, { AWS_REGION: 'eu-west-1' }],
      [['GET', '/v1/tenants/acme'], /^No region/, { ...ENV, AWS_REGION: undefined }],
    ];
    for (const [args, message, env] of cases) {
      const err = await cp(args, env).catch((e) => e);
      expect([args, err]).toEqual([args, expect.any(CommandError)]);
      expect([args, err.message]).toEqual([args, expect.stringMatching(message)]);
    }
    for (const [argv, message] of [
      [['GET', '/v1/tenants/acme', '--endpoint', 'http://api.example.com/prod'], /^--endpoint: must be an https URL/],
      [['GET', '/v1/tenants/acme'], /^usage: npm run control-plane/],
    ] as const) {
      await expect(run(argv, world())).rejects.toThrow(message);
    }
    expect(seen).toEqual([]);
  });

  it("a refusal is the API's error envelope; a request the gateway cannot verify is refused too", async () => {
    const missing = await cp(['GET', '/v1/tenants/nobody']).catch((e) => e);
    expect(missing).toBeInstanceOf(CommandError);
    const [line, ...rest] = missing.message.split('\n');
    expect(line).toBe('Refused (HTTP 404)');
    expect(JSON.parse(rest.join('\n'))).toEqual({
      error: { code: 'not_found', message: expect.stringContaining('No tenant "nobody"'), requestId: 'gw-1' },
    });

    await onboard('acme');
    const invalid = await cp(['PATCH', '/v1/tenants/acme', '--body', '{"suspend":true,"resume":true}']).catch((e) => e);
    expect(invalid.message).toMatch(/^Refused \(HTTP 400\)\n\{\n {2}"error": \{\n {4}"code": "invalid_request"/);

    const forged = await cp(['GET', '/v1/tenants/acme'], { ...ENV, AWS_SECRET_ACCESS_KEY: 'not-the-secret' }).catch(
      (e) => e,
    );
    expect(forged.message).toMatch(/^Refused \(HTTP 403\)\n\{\n {2}"message": "The request signature we calculated/);
    expect(seen).toHaveLength(3);
  });

  it('a 202 (a purge not finished) succeeds and says so on stderr; the next DELETE goes on', async () => {
    const prefix = poolTenantPrefix('acme');
    const items: LedgerKey[] = [1, 2, 3].map((i) => ({ pk: `${prefix}REQ#r-${i}`, sk: 'REQUEST' }));
    const ledger: PooledLedgerPort = {
      async scanTenantKeys(_cell, tenantId, start, pageSize) {
        const from = start ? items.findIndex((k) => k.pk === start.pk) + 1 : 0;
        const keys = items.slice(from, from + pageSize).filter((k) => k.pk.startsWith(poolTenantPrefix(tenantId)));
        return { keys, ...(from + pageSize < items.length ? { next: items[from + pageSize - 1]! } : {}) };
      },
      async deleteTenantItems(_cell, _tenantId, keys) {
        for (const k of keys) items.splice(items.indexOf(k), 1);
      },
    };
    const cell = {
      id: 'pool-1',
      capacity: 10,
      ledgerTable: 'pool-1-ledger',
      tenantAccessRoleArn: 'arn:aws:iam::1:role/x',
    };
    h = await registry.harness([cell], { ledger, purgeBudget: { maxItems: 1, maxMs: 60_000, pageSize: 1 } });
    await onboard('acme', { offboarding: { data: 'delete' } });

    const first = await cp(['DELETE', '/v1/tenants/acme']);
    expect(first.notes).toEqual([
      expect.stringMatching(/^Accepted \(HTTP 202\): not finished yet; DELETE \/v1\/tenants\/acme again to continue/),
    ]);
    expect(JSON.parse(first.stdout[0]!).purge).toMatchObject({ status: 'in_progress', deletedSoFar: 1 });

    let last = first;
    for (let i = 0; i < 10 && last.notes?.length; i++) last = await cp(['DELETE', '/v1/tenants/acme']);
    expect(last.notes).toEqual([]);
    expect(JSON.parse(last.stdout[0]!)).toMatchObject({ tenant: { status: 'deleted' } });
    expect(items).toEqual([]);
  });

  it('as a command: the answer on stdout and nothing on stderr; a refusal on stderr with exit code 1', async () => {
    await onboard('acme');
    const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const script = path.join(__dirname, '..', '..', 'scripts', 'control-plane.ts');
    const exec = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          tsx,
          [script, ...args, '--endpoint', endpoint],
          { env: { ...process.env, ...ENV } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const ok = await exec(['PATCH', '/v1/tenants/acme', '--body', '{"suspend":true}']);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/^\{\n {2}"tenant": \{\n[\s\S]*"status": "suspended"[\s\S]*\n\}\n$/);

    const refused = await exec(['GET', '/v1/tenants/nobody']);
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^Refused \(HTTP 404\)\n\{\n {2}"error": \{\n {4}"code": "not_found"[\s\S]*\}\n$/);

    const sent = seen.length;
    const bad = await exec(['DELETE', '/v1/tenants/..']);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'path: got "/v1/tenants/.."; no "." or ".." segments\n' });
    expect(seen).toHaveLength(sent);
  });
});
