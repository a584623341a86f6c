/**
 * Onboards a pooled tenant through the control plane API (README, "Onboarding a pooled tenant"):
 *
 *   npm run tenant:onboard -- tenants/hooli.yaml --endpoint https://<api-id>.execute-api.<region>.amazonaws.com/prod
 *
 * Reads the tenant file, checks it with the same schema and messages as `npx cdk synth` (it must be pooled:
 * `isolation: pool`, the basic plan's default), and POSTs it as JSON to `<endpoint>/v1/tenants`, signed with SigV4
 * (service `execute-api`) with credentials from the environment, as every control plane command does
 * (scripts/control-plane-client.ts says which, and how the region is found). Prints the tenant and its API key,
 * shown this once, to stdout and nothing else; refusals go to stderr, exit code 1. Any other call of the API
 * (suspend, offboard, move, list): `npm run control-plane` (scripts/control-plane.ts).
 */
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { parseTenantFile } from '../lib/config/load-tenants';
import {
  apiUrl,
  argsOf,
  CommandError,
  type CommandWorld,
  callApi,
  endpointOf,
  refusalLine,
  runAsCommand,
} from './control-plane-client';

const USAGE =
  'usage: npm run tenant:onboard -- <tenants/<id>.yaml> --endpoint https://<api-id>.execute-api.<region>.amazonaws.com/<stage> [--region <region>]';

/** A refusal: its message is for the person running the command (the control plane commands' one kind). */
export { CommandError as OnboardError };

/** What the command needs from the world (tests pass their own). */
export interface OnboardEnv extends CommandWorld {
  readonly readFile: (file: string) => string;
}

function options(argv: readonly string[]): { file: string; endpoint: string; region?: string } {
  const { positional, options: o } = argsOf(argv, ['endpoint', 'region'], 1, USAGE);
  const [file] = positional;
  if (!file || !o.endpoint) throw new CommandError(USAGE);
  return { file, endpoint: o.endpoint, ...(o.region ? { region: o.region } : {}) };
}

/** Runs the command; returns the lines to print on stdout. */
export async function run(argv: readonly string[], world: OnboardEnv): Promise<string[]> {
  const { file, endpoint, region } = options(argv);
  let text: string;
  try {
    text = world.readFile(file);
  } catch (e) {
    throw new CommandError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const checked = parseTenantFile(file, text);
  if (!checked.tenant) throw new CommandError(checked.problems.join('\n'));
  if (checked.tenant.isolation !== 'pool') {
    throw new CommandError(
      `${file}: isolation is "${checked.tenant.isolation}": silo tenants get a stack of their own (npx cdk deploy); only pooled tenants are onboarded through the control plane`,
    );
  }
  // The file passed the loader (one document, no alias flood), so reading it again as plain data is safe.
  const document = parse(text) as Record<string, unknown>;
  const url = apiUrl(endpointOf(endpoint), '/v1/tenants');
  const answer = await callApi(world, {
    method: 'POST',
    url,
    body: JSON.stringify(document),
    ...(region ? { region } : {}),
  });
  const created = answer.json as
    | { tenant?: { tenantId?: string; cell?: string; status?: string }; apiKey?: string }
    | undefined;
  if (answer.status !== 201 || !created?.apiKey) {
    throw new CommandError(
      answer.status === 201 ? 'HTTP 201 without the tenant and its API key in the answer' : refusalLine(answer),
    );
  }
  return [
    `Tenant ${created.tenant?.tenantId} onboarded in ${created.tenant?.cell} (status ${created.tenant?.status}).`,
    JSON.stringify(created.tenant, null, 2),
    'API key (shown this once; store it now, it cannot be shown again — PATCH {"rotateKey": true} issues a new one):',
    created.apiKey,
  ];
}

if (require.main === module) {
  void runAsCommand(async (argv, world) => ({
    stdout: await run(argv, { ...world, readFile: (f) => fs.readFileSync(f, 'utf8') }),
  }));
}
