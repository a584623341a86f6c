/**
 * The input of the review steps function, parsed: what the state machine's tasks send (lib/constructs/review)
 * and what the housekeeping schedule sends (`{step: 'sweep'}`, with optional graces that tests set).
 * An event that is not one of these is a {@link StepError} with a clear name, never undefined behaviour.
 */
import * as z from 'zod/mini';
import '../../shared/zod-messages';

/** A failure the state machine should retry, then catch (its `name` is the error name Step Functions sees). */
export class StepError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const StepEventSchema = z.looseObject({
  step: z.string(),
  reviewId: z.optional(z.string()),
  requestId: z.optional(z.string()),
  taskToken: z.optional(z.string()),
  /** The error a Catch put on the state (`{Error, Cause}`): only its name is ever used. */
  error: z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.unknown()) })),
  /** Sweep: how long after its hand-off a request without a started workflow is considered stuck. */
  handOffGraceSeconds: z.optional(z.number().check(z.nonnegative())),
  /** Sweep: slack past the state machine's timeout before a still-pending review counts as orphaned. */
  orphanGraceSeconds: z.optional(z.number().check(z.nonnegative())),
  /** Sweep: how long a recorded decision may stay unapplied before the sweep applies it. */
  unappliedAfterMinutes: z.optional(z.number().check(z.nonnegative())),
  /** Sweep: how old a review-queue place must be before the sweep compares it with its request. */
  queueGraceSeconds: z.optional(z.number().check(z.nonnegative())),
});

/** A step's input as the state machine (or the schedule) sends it. */
export type StepEvent = z.infer<typeof StepEventSchema>;

/** The step an event names, if it names one (for routing and logs, before the event is parsed). */
export function stepNameOf(event: unknown): unknown {
  return typeof event === 'object' && event !== null ? (event as { step?: unknown }).step : undefined;
}

/** Parses an event for step `step`; a malformed one is `InvalidStepInput`. */
export function parseStepEvent(step: string, event: unknown): StepEvent {
  const parsed = StepEventSchema.safeParse(event);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(event)'}: ${i.message}`);
  throw new StepError('InvalidStepInput', `Step ${step} got a malformed event: ${problems.join('; ')}`);
}
