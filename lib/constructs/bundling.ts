/**
 * Bundles a Lambda handler once per process with the local esbuild (never Docker) and hands CDK the
 * folder. Every tenant stack points at the same folder, so all tenants share one asset (one hash, one
 * upload). The same bundle is what the end-to-end tests, the benchmarks and a local sandbox run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync, type Metafile } from 'esbuild';
import { CONSOLE_FILES } from '../../lambda/review/http/console-assets';

/** Repository root (resolved from this file, so it works from tsx, jest and any cwd). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The Lambda runtime of every Switchboard function; the bundles target its Node.js version. */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** esbuild's name of the runtime's Node.js version (`nodejs24.x` → `node24`). */
const BUNDLE_TARGET = HANDLER_RUNTIME.name.replace(/^nodejs(\d+)\.x$/, 'node$1');

/** Handlers under `lambda/` that are deployed as functions (`lambda/<name>/index.ts`). */
const HANDLERS = [
  'inference',
  'review-api',
  'review-steps',
  'pool-authorizer',
  'pool-inference',
  'pool-review-steps',
  'pool-review-api',
  'control-plane',
] as const;
export type HandlerName = (typeof HANDLERS)[number];

/**
 * Names the handler a function runs, with the handler's module as a type argument:
 * `handlerOf<typeof import('…/lambda/inference/index')>('inference')`. The construct then names its code by
 * import (a type-only import: readers and the editor follow it, tsc checks that the file exports `handler`, and
 * nothing of the handler runs at synth); the bundle is built from `lambda/<name>/index.ts`.
 */
export function handlerOf<M extends { handler: (...args: never[]) => unknown }>(
  name: HandlerName,
  _module?: M,
): HandlerName {
  return name;
}

/** A built bundle. */
export interface Bundle {
  /** Folder holding `index.js` (the asset). */
  readonly dir: string;
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

const cache = new Map<HandlerName, Bundle>();

/** Where bundles are written: `build/` in the repository, or `SWITCHBOARD_BUILD_DIR` (tests use a temp folder). */
const BUILD_DIR_ENV = 'SWITCHBOARD_BUILD_DIR';

/** Bundles `lambda/<name>/index.ts` into `build/lambda/<name>/index.js` (minified CJS, SDK included). */
export function bundleHandler(name: HandlerName): Bundle {
  const hit = cache.get(name);
  if (hit) return hit;
  const dir = path.join(process.env[BUILD_DIR_ENV] || path.join(PROJECT_ROOT, 'build'), 'lambda', name);
  const file = path.join(dir, 'index.js');
  const result = buildSync({
    entryPoints: [path.join(PROJECT_ROOT, 'lambda', name, 'index.ts')],
    bundle: true,
    platform: 'node',
    target: BUNDLE_TARGET,
    format: 'cjs',
    minify: true,
    // The SDK is bundled (not taken from the runtime) so its version is the one the tests ran.
    external: [],
    mainFields: ['module', 'main'],
    legalComments: 'none',
    // Lower import() to require(): the SDK lazily imports node:http, which jest's VM cannot do without a flag.
    supported: { 'dynamic-import': false },
    // Lambda hands functions their credentials in the environment: drop the rest of the default chains.
    alias: {
      '@aws-sdk/credential-provider-node': path.join(
        PROJECT_ROOT,
        'lambda/shared/sdk-shims/credential-provider-env-only.ts',
      ),
      '@aws-sdk/token-providers': path.join(PROJECT_ROOT, 'lambda/shared/sdk-shims/token-providers-env-only.ts'),
    },
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced no output for ${name}`);
  fs.mkdirSync(dir, { recursive: true });
  // Atomic replace: parallel test workers may bundle at the same time; the content is identical.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, out.contents);
  fs.renameSync(tmp, file);
  copyStaticFiles(name, dir);
  const bundle: Bundle = { dir, file, bytes: out.contents.byteLength, metafile: result.metafile! };
  cache.set(name, bundle);
  return bundle;
}

/** Files a handler serves as they are, copied beside its index.js (the review APIs serve the review console). */
const STATIC_FILES: Partial<Record<HandlerName, { readonly from: string; readonly files: readonly string[] }>> = {
  'review-api': { from: 'console', files: CONSOLE_FILES },
  'pool-review-api': { from: 'console', files: CONSOLE_FILES },
};

function copyStaticFiles(name: HandlerName, dir: string): void {
  const spec = STATIC_FILES[name];
  if (!spec) return;
  const to = path.join(dir, spec.from);
  fs.mkdirSync(to, { recursive: true });
  for (const f of spec.files) {
    const tmp = path.join(to, `${f}.${process.pid}.tmp`);
    fs.copyFileSync(path.join(PROJECT_ROOT, spec.from, f), tmp);
    fs.renameSync(tmp, path.join(to, f));
  }
}

/** The Lambda code of a handler, as a shared asset. */
export function handlerCode(name: HandlerName): lambda.Code {
  return lambda.Code.fromAsset(bundleHandler(name).dir);
}
