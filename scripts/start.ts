/**
 * `npm start`: the whole platform on this machine, no AWS account needed (local/sandbox.ts).
 *
 *   npm start                  # synthesizes when the app changed, then starts; data kept in .switchboard/
 *   npm start -- --fresh       # starts with empty tables
 *   npm start -- --port 5010   # the base port (default 4010; the APIs on the next ports)
 *
 * Prints progress, then the tenants (model, URL, API key), a curl line, the console URL and the control plane token;
 * writes the same to .switchboard/sandbox.json. Ctrl-C (or SIGTERM) stops everything.
 */
import * as path from 'node:path';
import { DEMO_MARKERS } from '../local/bedrock-demo';
import { DataDirInUseError, DEFAULT_PORT, PortInUseError, startSandbox } from '../local/sandbox';
import { REPO_ROOT } from '../local/synth-cache';

const USAGE = 'usage: npm start -- [--fresh] [--port <n>]';

function options(argv: readonly string[]): { fresh: boolean; port: number } {
  let fresh = false;
  let port = DEFAULT_PORT;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--fresh') fresh = true;
    else if (a === '--port') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1024 || v > 65_000)
        throw new Error(`--port needs a port number (1024-65000)\n${USAGE}`);
      port = v;
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unexpected ${JSON.stringify(a)}\n${USAGE}`);
  }
  return { fresh, port };
}

/** The table lines: tenant, isolation, model, URL, API key. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

async function main(): Promise<void> {
  // The sandbox's own SDK clients (table setup) talk to loopback servers only: dummy credentials, no AWS profile.
  process.env.AWS_ACCESS_KEY_ID = 'sandbox';
  process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
  process.env.AWS_REGION = 'us-east-1';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  let opts: { fresh: boolean; port: number };
  try {
    opts = options(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  // For tests of this command only: another data dir and an already synthesized cloud assembly.
  const dataDir = process.env.SWITCHBOARD_SANDBOX_DATA_DIR ?? path.join(REPO_ROOT, '.switchboard');
  const outdir = process.env.SWITCHBOARD_SANDBOX_CDK_OUT;
  const log = (line: string) => console.log(line);
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ dataDir, fresh: opts.fresh, port: opts.port, log, ...(outdir ? { outdir } : {}) });
  } catch (e) {
    console.error(
      e instanceof PortInUseError || e instanceof DataDirInUseError
        ? e.message
        : `The sandbox did not start: ${(e as Error).message}`,
    );
    process.exit(1);
  }
  const { info } = sandbox;
  const { tenants } = info;
  console.log('');
  for (const line of table([
    ['TENANT', 'ISOLATION', 'MODEL (default tier)', 'URL', 'API KEY'],
    ...tenants.map((t) => [t.id, t.isolation, t.model ?? '', t.url, t.apiKey]),
  ])) {
    console.log(`  ${line}`);
  }
  const first = tenants[0];
  if (first) {
    console.log('\nTry it:');
    console.log(
      `  curl -s ${first.url}/v1/inference -H 'x-api-key: ${first.apiKey}' -H 'content-type: application/json' -d '{"prompt":"Hello, Switchboard"}'`,
    );
    console.log(
      `  (put ${Object.values(DEMO_MARKERS).join(', ')} in the prompt to see the cascade and a review, or fallbacks)`,
    );
  }
  console.log(`\nReview console: ${info.reviewConsole.url}`);
  console.log(`Control plane:  ${info.controlPlane.url}  (Authorization: Bearer ${info.controlPlane.token})`);
  console.log(
    `Written to ${path.relative(process.cwd(), path.join(dataDir, 'sandbox.json'))}; function logs in ${path.relative(process.cwd(), path.join(dataDir, 'logs'))}/`,
  );
  // From the start of this process (what `npm start` adds before it is npm's and tsx's own start-up).
  console.log(`\nready in ${process.uptime().toFixed(1)} s. Ctrl-C stops it.`);

  let stoppingSince: number | undefined;
  const stop = (signal: string) => {
    // A second Ctrl-C (not the same one delivered twice, to the group and relayed) exits at once.
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince > 1_000) process.exit(130);
      return;
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping …`);
    const force = setTimeout(() => {
      console.error('did not stop within 5 s; exiting');
      process.exit(1);
    }, 4_500);
    force.unref();
    sandbox.stop().then(
      () => {
        console.log('stopped.');
        process.exit(0);
      },
      (e) => {
        console.error(`stop failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
