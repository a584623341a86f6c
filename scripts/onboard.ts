/**
 * Onboards a pooled tenant through the control plane API (README, "Onboarding a pooled tenant"):
 *
 *   npm run tenant:onboard -- tenants/hooli.yaml --endpoint https://<api-id>.execute-api.<region>.amazonaws.com/prod
 *
 * Reads the tenant file, checks it with the same schema and messages as `npx cdk synth` (it must be pooled:
 * `isolation: pool`, the basic plan's default), and POSTs it as JSON to `<endpoint>/v1/tenants`, signed with SigV4
 * (service `execute-api`) with credentials from the environment as the AWS CLI reads them (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; from a profile: `eval "$(aws configure export-credentials --format
 * env)"`). The region is `--region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else the endpoint's host. Prints
 * the tenant and its API key, shown this once, to stdout and nothing else; refusals go to stderr, exit code 1.
 */
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { signRequest } from '../lambda/shared/sigv4';
import { parseTenantFile } from '../lib/config/load-tenants';

const USAGE =
  'usage: npm run tenant:onboard -- <tenants/<id>.yaml> --endpoint https://<api-id>.execute-api.<region>.amazonaws.com/<stage> [--region <region>]';

/** A refusal: its message is for the person running the command. */
export class OnboardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnboardError';
  }
}

/** What the command needs from the world (tests pass their own). */
export interface OnboardEnv {
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (file: string) => string;
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

function options(argv: readonly string[]): { file: string; endpoint: string; region?: string } {
  let file: string | undefined;
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--endpoint' || a === '--region') {
      const v = argv[++i];
      if (v === undefined) throw new OnboardError(`${a} needs a value\n${USAGE}`);
      o[a.slice(2)] = v;
    } else if (!a.startsWith('--') && file === undefined) {
      file = a;
    } else {
      throw new OnboardError(`unexpected ${JSON.stringify(a)}\n${USAGE}`);
    }
  }
  if (!file || !o.endpoint) throw new OnboardError(USAGE);
  return { file, endpoint: o.endpoint, ...(o.region ? { region: o.region } : {}) };
}

/** The endpoint's URL of `POST /v1/tenants`: https (http only for 127.0.0.1, for tests and local sandboxes). */
function tenantsUrl(endpoint: string): URL {
  let base: URL;
  try {
    base = new URL(endpoint);
  } catch {
    throw new OnboardError(`--endpoint: not a URL: ${JSON.stringify(endpoint)}`);
  }
  const local = base.protocol === 'http:' && base.hostname === '127.0.0.1';
  if (base.protocol !== 'https:' && !local) throw new OnboardError('--endpoint: must be an https URL');
  if (base.search || base.hash || base.username) throw new OnboardError('--endpoint: no query, fragment or user');
  return new URL(`${base.pathname.replace(/\/+$/, '')}/v1/tenants`, base);
}

function regionOf(explicit: string | undefined, env: NodeJS.ProcessEnv, url: URL): string {
  const region =
    explicit ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
  if (!region) throw new OnboardError('No region: pass --region, or set AWS_REGION');
  return region;
}

/** Runs the command; returns the lines to print on stdout. */
export async function run(argv: readonly string[], world: OnboardEnv): Promise<string[]> {
  const { file, endpoint, region: explicit } = options(argv);
  let text: string;
  try {
    text = world.readFile(file);
  } catch (e) {
    throw new OnboardError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const checked = parseTenantFile(file, text);
  if (!checked.tenant) throw new OnboardError(checked.problems.join('\n'));
  if (checked.tenant.isolation !== 'pool') {
    throw new OnboardError(
      `${file}: isolation is "${checked.tenant.isolation}": silo tenants get a stack of their own (npx cdk deploy); only pooled tenants are onboarded through the control plane`,
    );
  }
  // The file passed the loader (one document, no alias flood), so reading it again as plain data is safe.
  const document = parse(text) as Record<string, unknown>;
  const url = tenantsUrl(endpoint);
  const region = regionOf(explicit, world.env, url);
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN } = world.env;
  if (!accessKeyId || !secretAccessKey) {
    throw new OnboardError(
      'No AWS credentials in the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), e.g. eval "$(aws configure export-credentials --format env)"',
    );
  }
  const credentials = {
    accessKeyId,
    secretAccessKey,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
  const body = JSON.stringify(document);
  const headers = signRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    body,
    service: 'execute-api',
    region,
    credentials,
    at: new Date(world.now()),
  });
  let res: Response;
  try {
    res = await world.fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new OnboardError(`${url.origin}: no answer (${(e as Error).message})`);
  }
  const answer = (await res.json().catch(() => undefined)) as
    | {
        tenant?: { tenantId?: string; cell?: string; status?: string };
        apiKey?: string;
        error?: { code: string; message: string; requestId?: string };
      }
    | { message?: string }
    | undefined;
  if (res.status !== 201 || !answer || !('apiKey' in answer) || !answer.apiKey) {
    const err = answer && 'error' in answer ? answer.error : undefined;
    const why = err
      ? `${err.code}: ${err.message}${err.requestId ? ` (requestId ${err.requestId})` : ''}`
      : ((answer as { message?: string } | undefined)?.message ?? 'no tenant in the answer');
    throw new OnboardError(`Refused (HTTP ${res.status}) ${why}`);
  }
  return [
    `Tenant ${answer.tenant?.tenantId} onboarded in ${answer.tenant?.cell} (status ${answer.tenant?.status}).`,
    JSON.stringify(answer.tenant, null, 2),
    'API key (shown this once; store it now, it cannot be shown again — PATCH {"rotateKey": true} issues a new one):',
    answer.apiKey,
  ];
}

async function main(): Promise<void> {
  try {
    const lines = await run(process.argv.slice(2), {
      env: process.env,
      readFile: (f) => fs.readFileSync(f, 'utf8'),
      fetch,
      now: Date.now,
    });
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`${err.name === 'OnboardError' ? '' : `${err.name}: `}${err.message}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
