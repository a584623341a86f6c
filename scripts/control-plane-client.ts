/**
 * What the operator commands of the control plane API share (scripts/onboard.ts, scripts/control-plane.ts): the
 * endpoint's checks, the region, credentials from the environment, the SigV4-signed request (service
 * `execute-api`, lambda/shared/sigv4.ts), the answer read back, and the command's printing and exit code.
 *
 * Credentials are read as the AWS CLI reads them from the environment (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; from a profile: `eval "$(aws configure export-credentials --format
 * env)"`). The region is `--region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else the endpoint's host.
 */
import type { AwsCredentialIdentity } from '@smithy/types';
import { signRequest } from '../lambda/shared/sigv4';

/** A refusal: its message is for the person running the command (printed alone on stderr, exit code 1). */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** What a command needs from the world (tests pass their own). */
export interface CommandWorld {
  readonly env: NodeJS.ProcessEnv;
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

/** What a command prints: `stdout` lines, and `notes` for stderr (the run still succeeded). */
export interface CommandOutput {
  readonly stdout: readonly string[];
  readonly notes?: readonly string[];
}

/**
 * The command line: up to `positionals` words, then `--<name> <value>` options of `names` (each once; a value may
 * not start with `--`, so a forgotten value is not taken from the next option). Anything else is refused with
 * `usage`.
 */
export function argsOf(
  argv: readonly string[],
  names: readonly string[],
  positionals: number,
  usage: string,
): { readonly positional: readonly string[]; readonly options: Readonly<Record<string, string>> } {
  const positional: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--') && names.includes(a.slice(2))) {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new CommandError(`${a} needs a value\n${usage}`);
      if (options[a.slice(2)] !== undefined) throw new CommandError(`${a} given twice\n${usage}`);
      options[a.slice(2)] = v;
    } else if (!a.startsWith('--') && positional.length < positionals) {
      positional.push(a);
    } else {
      throw new CommandError(`unexpected ${JSON.stringify(a)}\n${usage}`);
    }
  }
  return { positional, options };
}

/** Seconds a call may take before the command gives up (API Gateway's own limit is 29 s). */
const TIMEOUT_MS = 30_000;

/**
 * The checked `--endpoint`: an https URL without query, fragment or user (plain http only for 127.0.0.1, for tests
 * and local sandboxes). Its path (the stage, `/prod`) is kept, without a trailing slash.
 */
export function endpointOf(endpoint: string): URL {
  let base: URL;
  try {
    base = new URL(endpoint);
  } catch {
    throw new CommandError(`--endpoint: not a URL: ${JSON.stringify(endpoint)}`);
  }
  const local = base.protocol === 'http:' && base.hostname === '127.0.0.1';
  if (base.protocol !== 'https:' && !local) throw new CommandError('--endpoint: must be an https URL');
  if (base.search || base.hash || base.username || base.password) {
    throw new CommandError('--endpoint: no query, fragment or user');
  }
  base.pathname = base.pathname.replace(/\/+$/, '');
  return base;
}

/** The URL of `pathAndQuery` (`/v1/tenants…`, checked by the caller) under the endpoint's stage. */
export function apiUrl(endpoint: URL, pathAndQuery: string): URL {
  return new URL(`${endpoint.origin}${endpoint.pathname}${pathAndQuery}`);
}

/** The region to sign for: `--region`, else the environment's, else the execute-api host's. */
export function regionOf(explicit: string | undefined, env: NodeJS.ProcessEnv, url: URL): string {
  const region =
    explicit ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
  if (!region) throw new CommandError('No region: pass --region, or set AWS_REGION');
  return region;
}

/** The credentials of the environment, or a refusal saying how to set them. */
export function credentialsOf(env: NodeJS.ProcessEnv): AwsCredentialIdentity {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw new CommandError(
      'No AWS credentials in the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), e.g. eval "$(aws configure export-credentials --format env)"',
    );
  }
  return { accessKeyId, secretAccessKey, ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}) };
}

/** One call of the control plane API. */
export interface ApiCall {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: URL;
  /** `--region`, if given. */
  readonly region?: string;
  /** The JSON body, already serialized. */
  readonly body?: string;
}

/** The answer: its status, its body as JSON (undefined when it is not JSON) and as text. */
export interface ApiAnswer {
  readonly status: number;
  readonly json: unknown;
  readonly text: string;
}

/** Signs the call with the environment's credentials (checked before anything is sent) and sends it. */
export async function callApi(world: CommandWorld, call: ApiCall): Promise<ApiAnswer> {
  const region = regionOf(call.region, world.env, call.url);
  const credentials = credentialsOf(world.env);
  const headers = signRequest({
    method: call.method,
    url: call.url,
    headers: call.body === undefined ? {} : { 'content-type': 'application/json' },
    ...(call.body === undefined ? {} : { body: call.body }),
    service: 'execute-api',
    region,
    credentials,
    at: new Date(world.now()),
  });
  let res: Response;
  let text: string;
  try {
    res = await world.fetch(call.url, {
      method: call.method,
      headers,
      ...(call.body === undefined ? {} : { body: call.body }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    text = await res.text();
  } catch (e) {
    throw new CommandError(`${call.url.origin}: no answer (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** The error envelope of an answer (`{"error": {code, message, requestId}}`), if it has one. */
export function envelopeOf(
  answer: ApiAnswer,
): { readonly code: string; readonly message: string; readonly requestId?: string } | undefined {
  const err = (answer.json as { error?: unknown } | undefined)?.error as
    | { code?: unknown; message?: unknown; requestId?: unknown }
    | undefined;
  if (!err || typeof err.code !== 'string' || typeof err.message !== 'string') return undefined;
  return {
    code: err.code,
    message: err.message,
    ...(typeof err.requestId === 'string' ? { requestId: err.requestId } : {}),
  };
}

/** One line saying why the API refused: `Refused (HTTP 409) tenant_exists: … (requestId …)`. */
export function refusalLine(answer: ApiAnswer): string {
  const err = envelopeOf(answer);
  const gateway = (answer.json as { message?: unknown } | undefined)?.message;
  const why = err
    ? `${err.code}: ${err.message}${err.requestId ? ` (requestId ${err.requestId})` : ''}`
    : typeof gateway === 'string'
      ? gateway
      : answer.text
        ? answer.text.slice(0, 500)
        : 'no answer body';
  return `Refused (HTTP ${answer.status}) ${why}`;
}

/**
 * Runs a command as a process: its stdout lines, its notes on stderr; a refusal's message on stderr and exit
 * code 1 (an unexpected error with its name, so it is not taken for a refusal).
 */
export async function runAsCommand(
  command: (argv: readonly string[], world: CommandWorld) => Promise<CommandOutput>,
): Promise<void> {
  try {
    const out = await command(process.argv.slice(2), { env: process.env, fetch, now: Date.now });
    if (out.notes?.length) process.stderr.write(`${out.notes.join('\n')}\n`);
    if (out.stdout.length) process.stdout.write(`${out.stdout.join('\n')}\n`);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`${err instanceof CommandError ? '' : `${err.name}: `}${err.message}\n`);
    process.exitCode = 1;
  }
}
