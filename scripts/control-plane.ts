/**
 * Any call of the control plane API, SigV4-signed, without third-party tools (README, "Control plane and pooled
 * tenants"):
 *
 *   npm run control-plane -- PATCH /v1/tenants/acme --body '{"suspend":true}' --endpoint https://<api-id>.execute-api.<region>.amazonaws.com/prod
 *   npm run control-plane -- GET /v1/tenants/acme --endpoint …
 *   npm run control-plane -- DELETE /v1/tenants/acme --endpoint …
 *   npm run control-plane -- POST /v1/tenants/acme/move --body '{"to":"pool"}' --endpoint …
 *   npm run control-plane -- GET '/v1/tenants?limit=50' --endpoint …
 *
 * Checked before anything is sent: the method (GET, POST, PATCH, DELETE), the path (under /v1/tenants, safe
 * characters only, no `.` or `..` segment, at most {@link MAX_PATH_LENGTH} characters), the body (a JSON object of
 * at most 64 KB, for POST and PATCH only), the endpoint (https) and the credentials (from the environment, as
 * scripts/control-plane-client.ts says). Prints the answer's body as indented JSON on stdout. A 202 (a purge that
 * goes on at the next DELETE) exits 0 and says so on stderr; any other answer that is not 2xx prints the error
 * envelope on stderr and exits 1. Onboarding a tenant from its file: `npm run tenant:onboard` (scripts/onboard.ts).
 */
import { MAX_TENANT_BODY_BYTES } from '../lambda/control-plane/http/handler';
import {
  type ApiCall,
  apiUrl,
  argsOf,
  CommandError,
  type CommandOutput,
  type CommandWorld,
  callApi,
  endpointOf,
  runAsCommand,
} from './control-plane-client';

export const USAGE =
  "usage: npm run control-plane -- <GET|POST|PATCH|DELETE> </v1/tenants[/<id>[/move]][?limit=<n>&cursor=<c>]> [--body '<JSON object>'] --endpoint https://<api-id>.execute-api.<region>.amazonaws.com/<stage> [--region <region>]";

/** The methods of the control plane API. */
export const METHODS = ['GET', 'POST', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

/** Longest path (with its query) accepted: an id is at most 32 characters, a listing cursor a few hundred. */
export const MAX_PATH_LENGTH = 1024;

/**
 * `/v1/tenants`, then at most two segments (`/<id>`, `/<id>/move`) of unreserved characters, then an optional query
 * of `name=value` pairs of unreserved characters or percent escapes.
 */
const CHAR = '(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})';
const PAIR = `${CHAR}+=${CHAR}*`;
const PATH = new RegExp(`^/v1/tenants(?:/[A-Za-z0-9._~-]+){0,2}(?:\\?${PAIR}(?:&${PAIR})*)?$`);

/** Characters of a refusal's body printed on stderr. */
const MAX_SHOWN_REFUSAL = 4000;

interface Options {
  readonly method: Method;
  readonly path: string;
  readonly body?: string;
  readonly endpoint: string;
  readonly region?: string;
}

function options(argv: readonly string[]): Options {
  const { positional, options: o } = argsOf(argv, ['endpoint', 'region', 'body'], 2, USAGE);
  const [method, path] = positional;
  if (!method || !path || !o.endpoint) throw new CommandError(USAGE);
  return {
    method: checkedMethod(method),
    path: checkedPath(path),
    endpoint: o.endpoint,
    ...(o.body !== undefined ? { body: o.body } : {}),
    ...(o.region ? { region: o.region } : {}),
  };
}

function checkedMethod(method: string): Method {
  if (!(METHODS as readonly string[]).includes(method)) {
    throw new CommandError(`method: got ${JSON.stringify(method)}; must be one of ${METHODS.join(', ')} (upper case)`);
  }
  return method as Method;
}

/** The path as given, or a refusal naming the rule it breaks. */
export function checkedPath(path: string): string {
  if (path.length > MAX_PATH_LENGTH) {
    throw new CommandError(`path: ${path.length} characters; at most ${MAX_PATH_LENGTH}`);
  }
  const shown = JSON.stringify(path.slice(0, 100));
  if (!path.startsWith('/v1/tenants')) {
    throw new CommandError(
      `path: got ${shown}; must start with /v1/tenants (the path only: the host and stage are --endpoint's)`,
    );
  }
  const route = path.split('?', 1)[0]!;
  if (route.split('/').some((s) => s === '.' || s === '..')) {
    throw new CommandError(`path: got ${shown}; no "." or ".." segments`);
  }
  if (!PATH.test(path)) {
    throw new CommandError(
      `path: got ${shown}; must be /v1/tenants, /v1/tenants/<id> or /v1/tenants/<id>/move, of letters, digits and - . _ ~, with an optional query ?name=value&… (percent-encode anything else)`,
    );
  }
  return path;
}

/** The body as sent: a JSON object of at most 64 KB, for POST and PATCH (the API's own limit). */
function checkedBody(method: Method, body: string | undefined): string | undefined {
  if (method === 'GET' || method === 'DELETE') {
    if (body !== undefined) throw new CommandError(`--body: ${method} takes no body`);
    return undefined;
  }
  if (body === undefined) {
    throw new CommandError(`--body: ${method} needs a JSON object, e.g. --body '{"suspend":true}'`);
  }
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_TENANT_BODY_BYTES) {
    throw new CommandError(`--body: ${bytes} bytes; at most ${MAX_TENANT_BODY_BYTES} (64 KB)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw new CommandError(`--body: not JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CommandError(
      `--body: must be a JSON object ({…}); got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    );
  }
  return body;
}

/** Runs the command: what to print, or a refusal (of the input, before anything is sent, or of the API). */
export async function run(argv: readonly string[], world: CommandWorld): Promise<CommandOutput> {
  const { method, path, body: given, endpoint, region } = options(argv);
  const body = checkedBody(method, given);
  const call: ApiCall = {
    method,
    url: apiUrl(endpointOf(endpoint), path),
    ...(body !== undefined ? { body } : {}),
    ...(region ? { region } : {}),
  };
  const answer = await callApi(world, call);
  const shown = answer.json === undefined ? answer.text : JSON.stringify(answer.json, null, 2);
  if (answer.status < 200 || answer.status > 299) {
    // The error envelope as the API sent it (a gateway's answer that is not JSON: its first characters).
    const envelope = shown.length > MAX_SHOWN_REFUSAL ? `${shown.slice(0, MAX_SHOWN_REFUSAL)}…` : shown;
    throw new CommandError(`Refused (HTTP ${answer.status})${envelope ? `\n${envelope}` : ': no answer body'}`);
  }
  const notes: string[] = [];
  if (answer.status === 202) {
    const next = (answer.json as { purge?: { next?: unknown } } | undefined)?.purge?.next;
    notes.push(
      `Accepted (HTTP 202): not finished yet${typeof next === 'string' ? `; ${next}` : '; send the same call again to go on'}`,
    );
  }
  if (typeof (answer.json as { apiKey?: unknown } | undefined)?.apiKey === 'string') {
    notes.push('The answer holds an API key, shown this once: store it now, it cannot be shown again.');
  }
  return { stdout: shown ? [shown] : [], notes };
}

if (require.main === module) void runAsCommand(run);
