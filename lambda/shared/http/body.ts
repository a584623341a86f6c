/**
 * A JSON request body as API Gateway hands it over: Content-Type, base64, size, JSON syntax, an object.
 * Each refusal is a 4xx `ApiError` that names what is wrong; nothing here knows what the object should hold.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError } from '../errors';
import { header } from './router';

/** The parts of an HTTP request the body parser looks at. */
export interface RawHttpBody {
  readonly contentType: string | undefined;
  readonly body: string | null | undefined;
  readonly isBase64Encoded?: boolean;
}

/** The body parts of a proxy event. */
export function rawBodyOf(event: Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded'>): RawHttpBody {
  return {
    contentType: header(event.headers, 'content-type'),
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
  };
}

/** Parses an `application/json` body of at most `maxBytes` (UTF-8) that holds a JSON object. */
export function parseJsonObjectBody(raw: RawHttpBody, maxBytes: number): object {
  const mediaType = raw.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new ApiError(
      'unsupported_media_type',
      `Content-Type must be application/json (got ${raw.contentType ? `"${raw.contentType}"` : 'none'})`,
    );
  }
  const text = raw.isBase64Encoded ? Buffer.from(raw.body ?? '', 'base64').toString('utf8') : (raw.body ?? '');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new ApiError('payload_too_large', `Request body is ${bytes} bytes; the limit is ${maxBytes} bytes`);
  }
  if (text.trim() === '') throw new ApiError('invalid_json', 'Request body is empty; send a JSON object');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ApiError('invalid_json', `Request body is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ApiError('invalid_request', 'Request body must be a JSON object');
  }
  return json;
}
