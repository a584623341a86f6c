/**
 * `npm run tenant:onboard` against the real control plane handler (registry on dynalite) behind a loopback HTTP
 * server playing API Gateway (./loopback-gateway.ts, which checks the signature with the SDK's signer): the request
 * is SigV4-signed for execute-api and carries the tenant file as JSON.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { type OnboardEnv, OnboardError, run } from '../../scripts/onboard';
import { type RegistryHarness, registryServer } from '../lambda/control-plane/registry-harness';
import { loopbackGateway } from './loopback-gateway';

const ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDPLATFORMOPS',
  AWS_SECRET_ACCESS_KEY: 'ops-secret',
  AWS_SESSION_TOKEN: 'ops-session',
  AWS_REGION: 'eu-west-1',
};

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
let dir: string;

beforeAll(async () => {
  await registry.start();
  endpoint = await gateway.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onboard-'));
});
afterAll(async () => {
  await gateway.stop();
  await registry.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  h = await registry.harness();
  seen.length = 0;
});

const HOOLI = `# yaml-language-server: $schema=../lib/config/tenant.schema.json
id: hooli
plan: basic
monthlyBudgetUsd: 25
offboarding:
  data: delete
escalation:
  reviewerEmails: [review@hooli.example.com]
`;

function tenantFile(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

const world = (env: NodeJS.ProcessEnv = ENV): OnboardEnv => ({
  env,
  readFile: (f) => fs.readFileSync(f, 'utf8'),
  fetch,
  now: Date.now,
});

describe('tenant:onboard', () => {
  it('POSTs the checked file as JSON, SigV4-signed for execute-api, and prints the tenant and its key once', async () => {
    const file = tenantFile('hooli.yaml', HOOLI);
    const lines = await run([file, '--endpoint', endpoint], world());
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect([req.method, req.url, req.headers['content-type']]).toEqual([
      'POST',
      '/prod/v1/tenants',
      'application/json',
    ]);
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDPLATFORMOPS\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(req.headers['x-amz-security-token']).toBe('ops-session');
    expect(JSON.parse(req.body)).toEqual(parse(HOOLI));
    expect(lines[0]).toBe('Tenant hooli onboarded in pool-1 (status active).');
    const key = lines.at(-1)!;
    expect(key).toMatch(/^sbk_[\w-]{43}$/);
    expect(lines.join('\n').split(key)).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({
      tenantId: 'hooli',
      isolation: 'pool',
      runtime: { monthlyBudgetUsd: 25 },
    });
    expect(await h.usable(key)).toBe(true);
    expect((await h.registry.listAudit('hooli'))[0]?.who).toBe('arn:aws:iam::111122223333:user/AKIDPLATFORMOPS');
  });

  it('refuses before sending anything: a bad file, a silo tenant, no credentials, a plain-http endpoint', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [
        [tenantFile('bad-co.yaml', 'id: bad-co\nplan: gold\n'), '--endpoint', endpoint],
        ENV,
        /bad-co\.yaml: plan: got "gold"/,
      ],
      [[tenantFile('wrong.yaml', HOOLI), '--endpoint', endpoint], ENV, /id: got "hooli"; must match the file name/],
      [
        [
          tenantFile(
            'silo-co.yaml',
            'id: silo-co\nplan: basic\nisolation: silo\nescalation:\n  reviewerEmails: [r@silo.example.com]\n',
          ),
          '--endpoint',
          endpoint,
        ],
        ENV,
        /isolation is "silo": silo tenants get a stack of their own/,
      ],
      [[tenantFile('hooli.yaml', HOOLI), '--endpoint', endpoint], { AWS_REGION: 'eu-west-1' }, /No AWS credentials/],
      [[tenantFile('hooli.yaml', HOOLI), '--endpoint', 'http://api.example.com/prod'], ENV, /must be an https URL/],
      [[tenantFile('hooli.yaml', HOOLI)], ENV, /^usage: npm run tenant:onboard/],
      [[path.join(dir, 'missing.yaml'), '--endpoint', endpoint], ENV, /missing\.yaml: cannot read it \(ENOENT\)/],
    ];
    for (const [argv, env, message] of cases) {
      const err = await run(argv, world(env)).catch((e) => e);
      expect(err).toBeInstanceOf(OnboardError);
      expect(err.message).toMatch(message);
    }
    expect(seen).toEqual([]);
  });

  it("reports the control plane's refusal with its code and message", async () => {
    const file = tenantFile('hooli.yaml', HOOLI);
    await run([file, '--endpoint', endpoint], world());
    const err = await run([file, '--endpoint', endpoint], world()).catch((e) => e);
    expect(err.message).toMatch(/^Refused \(HTTP 409\) tenant_exists: .*\(requestId gw-1\)$/);
  });

  it('as a command: the tenant and key on stdout, nothing on stderr; a refusal on stderr with exit code 1', async () => {
    const file = tenantFile('hooli.yaml', HOOLI);
    const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const script = path.join(__dirname, '..', '..', 'scripts', 'onboard.ts');
    const exec = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(tsx, [script, ...args], { env: { ...process.env, ...ENV } }, (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const ok = await exec([file, '--endpoint', endpoint]);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(
      /^Tenant hooli onboarded in pool-1 \(status active\)\.\n\{[\s\S]*\}\nAPI key .*\nsbk_[\w-]{43}\n$/,
    );
    const refused = await exec([file, '--endpoint', endpoint]);
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^Refused \(HTTP 409\) tenant_exists: /);
  });
});
