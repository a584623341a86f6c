/**
 * The review console's routes of a review API (lambda/review/http/handler.ts): the Cognito-authorized reviewer routes
 * (a reviewer acts on exactly the tenants of its `tenant-<id>` groups; a decision names the signed-in reviewer, not
 * the name the page sends) and the console's files and config.json, on a silo tenant's API and a pool cell's. The
 * review core runs on its in-memory fakes (test/lambda/review/core/world.ts).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { makePooledReviewHandler, makeReviewHandler } from '../../../../lambda/review/http/handler';
import { proxyEvent } from '../../../support/bundled-handler';
import { reviewWorld } from '../core/world';

const ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool';
const SIGN_IN = { clientId: 'client-123', signInUrl: 'https://reviewers.auth.us-east-1.amazoncognito.com' };

/** An event as API Gateway passes it after its Cognito authorizer: the token's claims, values as strings. */
function signedIn(event: APIGatewayProxyEvent, groups: string | undefined, email = 'dana@acme.example') {
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      authorizer:
        groups === undefined
          ? null
          : { claims: { sub: 'sub-1', email, iss: ISSUER, ...(groups ? { 'cognito:groups': groups } : {}) } },
    },
  } as APIGatewayProxyEvent;
}

const body = (r: { body: string }) => JSON.parse(r.body);

describe("a silo tenant's review API: the console's reviewer routes", () => {
  const world = reviewWorld();
  const handler = makeReviewHandler(world.api, world.telemetry, 'acme', { signIn: SIGN_IN });
  const list = (groups?: string) =>
    handler(signedIn(proxyEvent({ method: 'GET', resource: '/v1/reviewer/reviews' }), groups));

  it("lists the tenant's pending reviews for a member of its group, refuses everyone else with 403 forbidden", async () => {
    const { reviewId } = await world.waiting();
    const ok = await list('tenant-globex,tenant-acme');
    expect(ok.statusCode).toBe(200);
    expect(body(ok).reviews.map((r: { reviewId: string }) => r.reviewId)).toContain(reviewId);
    for (const groups of [undefined, '', 'tenant-globex', 'tenant-acmex', 'acme', 'tenant-acme-b']) {
      const refused = await list(groups);
      expect({ groups, status: refused.statusCode, code: body(refused).error.code }).toEqual({
        groups,
        status: 403,
        code: 'forbidden',
      });
    }
    // The message names the group to join, never the reviewer's own groups.
    const msg = body(await list('tenant-globex')).error.message as string;
    expect(msg).toContain('"tenant-acme"');
    expect(msg).not.toContain('globex');
  });

  it('a decision names the signed-in reviewer and its Cognito identity, whatever name the page sends', async () => {
    const { reviewId } = await world.waiting();
    const decide = (groups: string) =>
      handler(
        signedIn(
          proxyEvent({
            method: 'POST',
            resource: '/v1/reviewer/reviews/{reviewId}/decision',
            pathParameters: { reviewId },
            body: { action: 'edit', answer: 'Edited by a person.', reviewer: 'someone-else', note: 'checked' },
          }),
          groups,
        ),
      );
    const refused = await decide('tenant-globex');
    expect(refused.statusCode).toBe(403);
    expect((await world.store.getReview(reviewId))?.status).toBe('pending');
    const ok = await decide('tenant-acme');
    expect(ok.statusCode).toBe(200);
    expect(await world.store.getReview(reviewId)).toMatchObject({
      status: 'edited',
      reviewer: 'dana@acme.example',
      reviewerIdentity: `cognito:${ISSUER}#sub-1`,
      finalAnswer: 'Edited by a person.',
    });
  });

  it('serves the console page, its files with a strict CSP, and config.json naming this API and its sign-in', async () => {
    const get = (resource: string, file?: string) =>
      handler(
        signedIn(proxyEvent({ method: 'GET', resource, ...(file ? { pathParameters: { file } } : {}) }), undefined),
      );
    const root = await get('/console');
    expect(root.statusCode).toBe(302);
    expect(root.headers?.location).toBe('https://abc123.execute-api.us-east-1.amazonaws.com/live/console/index.html');
    const page = await get('/console/{file}', 'index.html');
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers?.['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('<script type="module" src="app.js"></script>');
    expect((await get('/console/{file}', 'app.js')).headers?.['content-type']).toBe('text/javascript; charset=utf-8');
    const config = await get('/console/{file}', 'config.json');
    expect(body(config)).toEqual({
      signIn: {
        kind: 'cognito',
        domain: SIGN_IN.signInUrl,
        clientId: 'client-123',
        redirectUri: 'https://abc123.execute-api.us-east-1.amazonaws.com/live/console/index.html',
        groupPrefix: 'tenant-',
      },
      tenants: [
        {
          id: 'acme',
          isolation: 'silo',
          reviewApi: 'https://abc123.execute-api.us-east-1.amazonaws.com/live/v1/reviewer/reviews',
        },
      ],
    });
    for (const file of ['../package.json', 'index.htm', 'app.ts', '.env']) {
      const r = await get('/console/{file}', file);
      expect({ file, status: r.statusCode }).toEqual({ file, status: 404 });
    }
  });

  it('without sign-in settings the console says it has none', async () => {
    const plain = makeReviewHandler(world.api, world.telemetry, 'acme');
    const r = await plain(
      signedIn(
        proxyEvent({ method: 'GET', resource: '/console/{file}', pathParameters: { file: 'config.json' } }),
        undefined,
      ),
    );
    expect(body(r).signIn).toEqual({ kind: 'none' });
  });
});

describe("a pool cell's review API: the console's reviewer routes under the tenant", () => {
  const worlds = { hooli: reviewWorld({ tenantId: 'hooli' }), umbrella: reviewWorld({ tenantId: 'umbrella' }) };
  const handler = makePooledReviewHandler(
    async (tenantId) => {
      const w = worlds[tenantId as keyof typeof worlds];
      if (!w) throw Object.assign(new Error('not served'), { name: 'NotServed' });
      return w.api;
    },
    worlds.hooli.telemetry,
    {
      signIn: SIGN_IN,
      tenants: async () => [
        { id: 'hooli', isolation: 'pool' },
        { id: 'umbrella', isolation: 'pool' },
      ],
    },
  );
  const list = (tenantId: string, groups: string) =>
    handler(
      signedIn(
        proxyEvent({
          method: 'GET',
          resource: '/v1/reviewer/tenants/{tenantId}/reviews',
          pathParameters: { tenantId },
        }),
        groups,
      ),
    );

  it("a reviewer of hooli lists hooli's reviews, and is refused umbrella's", async () => {
    const { reviewId } = await worlds.hooli.waiting();
    const ok = await list('hooli', 'tenant-hooli');
    expect(body(ok).reviews.map((r: { reviewId: string }) => r.reviewId)).toContain(reviewId);
    const refused = await list('umbrella', 'tenant-hooli');
    expect(refused.statusCode).toBe(403);
    expect(body(refused).error.message).toContain('"tenant-umbrella"');
  });

  it("config.json lists the cell's tenants, each with its reviewer routes on this API", async () => {
    const r = await handler(
      signedIn(
        proxyEvent({ method: 'GET', resource: '/console/{file}', pathParameters: { file: 'config.json' } }),
        undefined,
      ),
    );
    expect(body(r).tenants).toEqual([
      {
        id: 'hooli',
        isolation: 'pool',
        reviewApi: 'https://abc123.execute-api.us-east-1.amazonaws.com/live/v1/reviewer/tenants/hooli/reviews',
      },
      {
        id: 'umbrella',
        isolation: 'pool',
        reviewApi: 'https://abc123.execute-api.us-east-1.amazonaws.com/live/v1/reviewer/tenants/umbrella/reviews',
      },
    ]);
  });
});
