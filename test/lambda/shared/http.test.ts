/** The shared HTTP layer: router, error envelope, JSON body, zod problem text. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError, DomainError } from '../../../lambda/shared/errors';
import {
  dispatch,
  errorResponse,
  header,
  internalError,
  json,
  parseJsonObjectBody,
  rawBodyOf,
  zodProblems,
} from '../../../lambda/shared/http';

const event = (resource: string, httpMethod: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  ({
    resource,
    httpMethod,
    path: resource,
    headers: {},
    body: null,
    isBase64Encoded: false,
    ...extra,
  }) as APIGatewayProxyEvent;

describe('dispatch', () => {
  const routes = { '/a': { GET: async (_e: APIGatewayProxyEvent, ctx: number) => `got ${ctx}` } };
  it('calls the handler of the resource and method with the context', async () => {
    expect(await dispatch(routes, event('/a', 'GET'), 7)).toBe('got 7');
  });
  it('refuses an unknown resource (404) and another method (405 with Allow)', async () => {
    expect(() => dispatch(routes, event('/b', 'GET'), 0)).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(() => dispatch(routes, event('/a', 'POST'), 0)).toThrow(
      expect.objectContaining({ code: 'method_not_allowed', headers: { allow: 'GET' } }),
    );
  });
});

describe('envelope', () => {
  it('maps a domain error to its status, Retry-After and the envelope', () => {
    const r = errorResponse(new DomainError('budget_exceeded', 'no money', 42, 'req_1'), 'req_1');
    expect(r).toEqual({
      statusCode: 429,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'retry-after': '42',
      },
      body: JSON.stringify({ error: { code: 'budget_exceeded', message: 'no money', requestId: 'req_1' } }),
    });
  });
  it("adds an adapter error's own headers", () => {
    expect(
      errorResponse(new ApiError('method_not_allowed', 'm', undefined, { allow: 'GET' }), 'g').headers,
    ).toMatchObject({ allow: 'GET' });
  });
  it('says nothing about internals in a 500', () => {
    const r = internalError('gw');
    expect(r.statusCode).toBe(500);
    expect(JSON.parse(r.body).error.code).toBe('internal_error');
  });
  it('serialises JSON with extra headers', () => {
    expect(json(202, { a: 1 }, { x: 'y' })).toMatchObject({ statusCode: 202, body: '{"a":1}', headers: { x: 'y' } });
  });
});

describe('parseJsonObjectBody', () => {
  const parse = (extra: Partial<APIGatewayProxyEvent>, max = 100) => {
    try {
      return parseJsonObjectBody(rawBodyOf(event('/a', 'POST', extra)), max);
    } catch (e) {
      return (e as DomainError).code;
    }
  };
  it('reads the Content-Type case-insensitively and decodes base64', () => {
    const body = Buffer.from('{"a":1}').toString('base64');
    expect(
      parse({ headers: { 'Content-Type': 'application/json; charset=utf-8' }, body, isBase64Encoded: true }),
    ).toEqual({ a: 1 });
    expect(header({ 'X-A': '1' }, 'x-a')).toBe('1');
  });
  it.each([
    [{ headers: { 'content-type': 'text/plain' }, body: '{}' }, 'unsupported_media_type'],
    [{ headers: { 'content-type': 'application/json' }, body: `{"a":"${'x'.repeat(100)}"}` }, 'payload_too_large'],
    [{ headers: { 'content-type': 'application/json' }, body: '  ' }, 'invalid_json'],
    [{ headers: { 'content-type': 'application/json' }, body: '{' }, 'invalid_json'],
    [{ headers: { 'content-type': 'application/json' }, body: '[1]' }, 'invalid_request'],
  ])('refuses %j with %s', (extra, code) => {
    expect(parse(extra)).toBe(code);
  });
});

describe('zodProblems', () => {
  it('names the path of each issue, (body) for the body itself', () => {
    expect(
      zodProblems([
        { path: ['a', 0], message: 'bad' },
        { path: [], message: 'worse' },
      ]),
    ).toEqual(['a.0: bad', '(body): worse']);
  });
});
