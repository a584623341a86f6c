import { parseInferenceBody } from '../../../../lambda/inference/http/request';
import { API_LIMITS } from '../../../../lambda/shared/api-schema';
import type { ApiError } from '../../../../lambda/shared/errors';

const json = 'application/json';
function codeOf(contentType: string | undefined, body: string | null): string | undefined {
  try {
    parseInferenceBody({ contentType, body });
    return undefined;
  } catch (e) {
    return (e as ApiError).code;
  }
}

describe('parseInferenceBody', () => {
  it.each([
    [json, '{"prompt":"hi"}'],
    ['application/json; charset=utf-8', '{"prompt":"hi"}'],
    [
      json,
      '{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}',
    ],
    [json, '{"prompt":"hi","tier":"deep","maxTokens":10,"idempotencyKey":"k-1","metadata":{"a":"b"},"system":"s"}'],
  ])('accepts %s %s', (ct, body) => {
    expect(codeOf(ct, body)).toBeUndefined();
  });

  it.each([
    ['text/plain', '{"prompt":"hi"}', 'unsupported_media_type'],
    [undefined, '{"prompt":"hi"}', 'unsupported_media_type'],
    [json, null, 'invalid_json'],
    [json, '{', 'invalid_json'],
    [json, '"hi"', 'invalid_request'],
    [json, 'null', 'invalid_request'],
    [json, '{}', 'invalid_request'],
    [json, '{"prompt":""}', 'invalid_request'],
    [json, '{"prompt":"a","messages":[{"role":"user","content":"b"}]}', 'invalid_request'],
    [json, '{"messages":[]}', 'invalid_request'],
    [json, '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}', 'invalid_request'],
    [json, '{"messages":[{"role":"system","content":"a"}]}', 'invalid_request'],
    [json, '{"prompt":"hi","maxTokens":0}', 'invalid_request'],
    [json, '{"prompt":"hi","maxTokens":1.5}', 'invalid_request'],
    [json, '{"prompt":"hi","idempotencyKey":"has space"}', 'invalid_request'],
    [json, '{"prompt":"hi","extra":1}', 'invalid_request'],
    [
      json,
      `{"prompt":"hi","metadata":{${Array.from({ length: 17 }, (_, i) => `"k${i}":"v"`).join(',')}}}`,
      'invalid_request',
    ],
  ])('rejects %s %s with %s', (ct, body, code) => {
    expect(codeOf(ct, body)).toBe(code);
  });

  it('rejects a body over API_LIMITS.maxBodyBytes with payload_too_large (413)', () => {
    expect(codeOf(json, JSON.stringify({ prompt: 'z'.repeat(API_LIMITS.maxBodyBytes) }))).toBe('payload_too_large');
  });

  it('reads the largest prompt any tenant may allow, even when every character is escaped (CJK, JSON escapes)', () => {
    const cjk = '漢'.repeat(API_LIMITS.maxPromptChars);
    expect(codeOf(json, JSON.stringify({ prompt: cjk }))).toBeUndefined();
    // 6 bytes per character as \uXXXX escapes, plus the longest system text.
    const escaped = `{"prompt":"${'\\u6f22'.repeat(API_LIMITS.maxPromptChars)}","system":"${'\\u6f22'.repeat(API_LIMITS.maxSystemChars)}"}`;
    expect(Buffer.byteLength(escaped)).toBeGreaterThan(1_000_000);
    expect(codeOf(json, escaped)).toBeUndefined();
  });

  it('decodes base64 bodies', () => {
    const body = Buffer.from('{"prompt":"hi"}').toString('base64');
    expect(parseInferenceBody({ contentType: json, body, isBase64Encoded: true }).prompt).toBe('hi');
  });

  it('names every offending field in one message', () => {
    try {
      parseInferenceBody({ contentType: json, body: '{"prompt":"hi","maxTokens":-1,"colour":"red"}' });
      throw new Error('not rejected');
    } catch (e) {
      expect((e as Error).message).toContain('maxTokens');
      expect((e as Error).message).toContain('colour');
    }
  });
});
