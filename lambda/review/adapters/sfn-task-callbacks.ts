/**
 * `TaskCallbacks` on Step Functions: resumes the execution waiting on a task token (SendTaskSuccess) or
 * keeps it alive (SendTaskHeartbeat). The errors Step Functions answers when the task no longer waits
 * become {@link TaskNotWaitingError}; every other error passes as it is (the caller may send again).
 */
import { SendTaskHeartbeatCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { type TaskCallbacks, TaskNotWaitingError } from '../core/ports';

/** Errors Step Functions answers when the task is no longer waiting. */
const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

async function unlessGone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (e) {
    const name = (e as Error)?.name;
    if (TASK_GONE.has(name)) throw new TaskNotWaitingError(name);
    throw e;
  }
}

export function makeSfnTaskCallbacks(sfn: SFNClient): TaskCallbacks {
  return {
    success: (token, output) =>
      unlessGone(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }))),
    heartbeat: (token) => unlessGone(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }))),
  };
}
