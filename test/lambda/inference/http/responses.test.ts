/** The inference API's HTTP mapping of outcomes. */
import type { AnsweredOutcome } from '../../../../lambda/inference/http/responses';
import { answerResult, readResult } from '../../../../lambda/inference/http/responses';
import type { InferenceResponse } from '../../../../lambda/shared/api-schema';

const response = (status: InferenceResponse['status']) => ({ requestId: 'req_x', status }) as InferenceResponse;
const summary = {} as Extract<AnsweredOutcome, { kind: 'answered' }>['summary'];

describe('answerResult', () => {
  it('answers 200, and 202 for an answer handed to review', () => {
    expect(answerResult({ kind: 'answered', response: response('completed'), summary })).toEqual({
      status: 200,
      body: response('completed'),
    });
    expect(answerResult({ kind: 'pending_review', response: response('pending_review'), summary }).status).toBe(202);
  });

  it('marks a replay with Idempotent-Replay, keeping 200 or 202 by the recorded status', () => {
    expect(answerResult({ kind: 'replayed', response: response('completed') })).toEqual({
      status: 200,
      body: response('completed'),
      headers: { 'Idempotent-Replay': 'true' },
    });
    expect(answerResult({ kind: 'replayed', response: response('pending_review') }).status).toBe(202);
    expect(answerResult({ kind: 'replayed', response: response('reviewed') }).status).toBe(200);
  });

  it('answers reads with 200', () => {
    expect(readResult({ a: 1 })).toEqual({ status: 200, body: { a: 1 } });
  });
});
