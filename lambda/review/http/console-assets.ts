/**
 * The review console as a review API serves it in AWS (`GET /console/{file}`): its static files (console/, copied
 * into the review functions' bundles by lib/constructs/bundling.ts) and its `config.json`, built per request from
 * the function's sign-in settings (`REVIEW_CONSOLE`: the Cognito app client and sign-in domain) and the API's own
 * address, so every URL in it is this API's. Locally the sandbox serves the same files with a dev sign-in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { ApiError } from '../../shared/errors';
import { REVIEWER_GROUP_PREFIX } from './reviewer-claims';

/** The console's files (console/ in the repository, `console/` beside the bundle's index.js). */
export const CONSOLE_FILES = ['index.html', 'app.js', 'app.css'] as const;
/** The environment variable with the console's sign-in settings (JSON {@link ConsoleSignIn}). */
export const CONSOLE_ENV = 'REVIEW_CONSOLE';
/** Where the Cognito-authorized review routes are: `/v1/reviewer/reviews…` (a pool cell's: `…/tenants/{tenantId}/reviews…`). */
export const REVIEWER_ROUTE_PREFIX = '/v1/reviewer';

const ConsoleSignInSchema = z.strictObject({ clientId: z.string(), signInUrl: z.optional(z.string()) });
export type ConsoleSignIn = z.infer<typeof ConsoleSignInSchema>;

/** The sign-in settings of `REVIEW_CONSOLE`, or undefined when the function has none (no console). */
export function consoleSignInFromEnv(value: string | undefined): ConsoleSignIn | undefined {
  if (!value) return undefined;
  const parsed = ConsoleSignInSchema.safeParse(JSON.parse(value));
  if (!parsed.success) throw new Error(`${CONSOLE_ENV}: not {"clientId", "signInUrl"?}`);
  return parsed.data;
}

const TYPES: Record<(typeof CONSOLE_FILES)[number], string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Headers of every console answer: nothing framed, sniffed, referred or cached past a deploy. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Where the console's files are: beside the bundle, or the repository's console/ when run from source. */
function consoleDir(): string {
  const bundled = path.join(__dirname, 'console');
  return fs.existsSync(bundled) ? bundled : path.resolve(__dirname, '..', '..', '..', 'console');
}

const cache = new Map<string, string>();
function fileText(file: (typeof CONSOLE_FILES)[number]): string {
  const hit = cache.get(file);
  if (hit !== undefined) return hit;
  const text = fs.readFileSync(path.join(consoleDir(), file), 'utf8');
  cache.set(file, text);
  return text;
}

/** The tenants a console lists: a silo tenant's API has one, a pool cell's those with review on. */
export type ConsoleTenants = () => Promise<ReadonlyArray<{ id: string; isolation: 'silo' | 'pool' }>>;

/** This API's base URL as the caller reached it (`https://<host>/<stage>`). */
function baseUrlOf(event: APIGatewayProxyEvent): string {
  const host = event.requestContext?.domainName ?? event.headers?.Host ?? event.headers?.host;
  if (!host || !/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(host)) throw new ApiError('invalid_request', 'No valid host');
  const stage = event.requestContext?.stage;
  return `https://${host}${stage && /^[A-Za-z0-9_-]{1,128}$/.test(stage) ? `/${stage}` : ''}`;
}

/**
 * Answers `GET /console` (a redirect to the page) and `GET /console/{file}`: a console file, or `config.json`
 * (`{"signIn":{"kind":"cognito",...}|{"kind":"none"},"tenants":[{"id","isolation","reviewApi"}]}`).
 */
export async function consoleResponse(
  event: APIGatewayProxyEvent,
  signIn: ConsoleSignIn | undefined,
  tenants: ConsoleTenants,
  pooled: boolean,
): Promise<APIGatewayProxyResult> {
  const base = baseUrlOf(event);
  const page = `${base}/console/index.html`;
  const file = event.pathParameters?.file;
  if (file === undefined)
    return { statusCode: 302, headers: { location: page, 'cache-control': 'no-store' }, body: '' };
  if (file === 'config.json') {
    const listed = await tenants();
    const body = {
      signIn:
        signIn?.signInUrl !== undefined
          ? {
              kind: 'cognito',
              domain: signIn.signInUrl,
              clientId: signIn.clientId,
              redirectUri: page,
              groupPrefix: REVIEWER_GROUP_PREFIX,
            }
          : { kind: 'none' },
      tenants: listed.map((t) => ({
        id: t.id,
        isolation: t.isolation,
        reviewApi: `${base}${REVIEWER_ROUTE_PREFIX}${pooled ? `/tenants/${t.id}` : ''}/reviews`,
      })),
    };
    return {
      statusCode: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(body),
    };
  }
  const known = (CONSOLE_FILES as readonly string[]).includes(file)
    ? (file as (typeof CONSOLE_FILES)[number])
    : undefined;
  if (!known) throw new ApiError('not_found', `The console has no file ${JSON.stringify(file.slice(0, 64))}`);
  return { statusCode: 200, headers: { ...SECURITY_HEADERS, 'content-type': TYPES[known] }, body: fileText(known) };
}
