/**
 * `npm start` reuses the synthesized cloud assembly (cdk.out) while it is current: a fingerprint of what synth reads
 * (bin/, lib/, lambda/, tenants/, cdk.json, package-lock.json: paths and contents) is kept in
 * `<dataDir>/synth.json` with a hash of the manifest that synth wrote, and `npx cdk synth -q` runs only when the
 * inputs differ or cdk.out is missing or was written by another synth since.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..');

/** What synth reads. */
export const SYNTH_INPUTS = ['bin', 'lib', 'lambda', 'tenants', 'cdk.json', 'package-lock.json'] as const;

/** A hash of the synth inputs under `root` (file paths and contents, in a stable order). */
export function synthFingerprint(root: string): string {
  const hash = createHash('sha256');
  const visit = (rel: string) => {
    const abs = path.join(root, rel);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      hash.update(`missing ${rel}\n`);
      return;
    }
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) {
        if (name === 'node_modules' || name.startsWith('.')) continue;
        visit(path.join(rel, name));
      }
    } else if (st.isFile()) {
      hash.update(`file ${rel.split(path.sep).join('/')} ${st.size}\n`);
      hash.update(fs.readFileSync(abs));
    }
  };
  for (const input of SYNTH_INPUTS) visit(input);
  return hash.digest('hex');
}

/** A hash of the cloud assembly's manifest (undefined when there is none). */
function manifestHash(outdir: string): string | undefined {
  try {
    return createHash('sha256')
      .update(fs.readFileSync(path.join(outdir, 'manifest.json')))
      .digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * The cloud assembly folder of `repoRoot` (cdk.out), synthesized first when the inputs changed since the last
 * synth this data dir saw (or it is missing). Synth output goes to `<dataDir>/logs/synth.log`.
 */
export async function ensureSynth(opts: { repoRoot: string; dataDir: string; log: (line: string) => void }) {
  const outdir = path.join(opts.repoRoot, 'cdk.out');
  const stateFile = path.join(opts.dataDir, 'synth.json');
  const started = Date.now();
  const fingerprint = synthFingerprint(opts.repoRoot);
  let kept: { fingerprint?: string; manifest?: string } = {};
  try {
    kept = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as typeof kept;
  } catch {
    kept = {};
  }
  // cdk.out as this data dir's synth left it (not, say, a `cdk synth -c tenant=acme` run since).
  if (kept.fingerprint === fingerprint && kept.manifest !== undefined && kept.manifest === manifestHash(outdir)) {
    opts.log(`Synth is current (cdk.out; inputs unchanged, checked in ${Date.now() - started} ms)`);
    return outdir;
  }
  opts.log('Synthesizing (npx cdk synth -q; the inputs changed since the last start) …');
  fs.mkdirSync(path.join(opts.dataDir, 'logs'), { recursive: true });
  const logFile = path.join(opts.dataDir, 'logs', 'synth.log');
  const out = fs.openSync(logFile, 'w');
  const cdk = path.join(opts.repoRoot, 'node_modules', '.bin', 'cdk');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(cdk, ['synth', '-q'], {
      cwd: opts.repoRoot,
      stdio: ['ignore', out, out],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
    child.on('error', reject);
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  fs.closeSync(out);
  if (code !== 0) {
    const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    throw new Error(`npx cdk synth failed (exit ${code}); its output (${logFile}):\n${tail}`);
  }
  fs.writeFileSync(
    stateFile,
    JSON.stringify({ fingerprint, manifest: manifestHash(outdir), at: new Date().toISOString() }, null, 2),
  );
  opts.log(`  synthesized in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return outdir;
}
