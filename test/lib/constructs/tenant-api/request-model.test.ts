import { toCdkJsonSchema } from '../../../../lib/constructs/tenant-api/request-model';

describe('toCdkJsonSchema', () => {
  it('renames $schema and $ref to the CDK names at every depth, including inside arrays', () => {
    const out = toCdkJsonSchema({
      $schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      oneOf: [{ $ref: '#/definitions/a' }, { required: ['b'] }],
      properties: { nested: { type: 'object', properties: { inner: { $ref: '#/definitions/c' } } } },
    }) as unknown as Record<string, unknown>;
    expect(out).toEqual({
      schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      oneOf: [{ ref: '#/definitions/a' }, { required: ['b'] }],
      properties: { nested: { type: 'object', properties: { inner: { ref: '#/definitions/c' } } } },
    });
  });

  it('keeps field names under properties as they are, even when they look like keywords', () => {
    const out = toCdkJsonSchema({
      type: 'object',
      properties: { $ref: { type: 'string' }, $schema: { type: 'number' } },
    }) as unknown as { properties: Record<string, unknown> };
    expect(Object.keys(out.properties).sort()).toEqual(['$ref', '$schema']);
  });

  it('passes scalar and null values through unchanged', () => {
    const out = toCdkJsonSchema({ type: 'string', maxLength: 3, pattern: '^a$', default: null, enum: ['x', 1] });
    expect(out).toEqual({ type: 'string', maxLength: 3, pattern: '^a$', default: null, enum: ['x', 1] });
  });
});
