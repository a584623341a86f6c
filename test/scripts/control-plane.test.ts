/**
 * `npm run control-plane` against the real control plane handler (registry on dynalite) behind a loopback HTTP
 * server playing API Gateway (./loopback-gateway.ts: it checks each request's SigV4 signature with the SDK's signer).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { LedgerKey, PooledLedgerPort } from '../../lambda/control-plane/core/ports';
import { poolTenantPrefix } from '../../lambda/shared/pool-keys';
import { run } from '../../scripts/control-plane';
import { CommandError, type CommandWorld } from '../../scripts/control-plane-client';
import { pooled, type RegistryHarness, registryServer } from '../lambda/control-plane/registry-harness';
import { BAD_SIGNATURE, callerOf, loopbackGateway } from './loopback-gateway';

const ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDPLATFORMOPS',
  AWS_SECRET_ACCESS_KEY: 'ops-secret',
  AWS_SESSION_TOKEN: 'ops-session',
  AWS_REGION: 'eu-west-1',
};
const OPS = callerOf(ENV.AWS_ACCESS_KEY_ID);

const registry = registryServer();
let h: RegistryHarness;
const gateway = loopbackGateway(
  () => h.deps(),
  [
    {
      accessKeyId: ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: ENV.AWS_SECRET_ACCESS_KEY,
      sessionToken: ENV.AWS_SESSION_TOKEN,
    },
  ],
);
const { seen } = gateway;
let endpoint: string;

beforeAll(async () => {
  await registry.start();
  endpoint = await gateway.start();
});
afterAll(async () => {
  await gateway.stop();
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
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/prod/v1/tenants/acme', body: '' });
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
    expect(forged.message).toBe(`Refused (HTTP 403)\n${JSON.stringify({ message: BAD_SIGNATURE }, null, 2)}`);
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
