/** A task failure with the code the appliance shows (contract/agent-tasks.ts TASK_FAILURES). */
import type { TaskFailureCode } from '../../contract/agent-tasks.ts';

/** Thrown by task steps; the runner reports `code` and `message` to the appliance. */
export class TaskError extends Error {
  constructor(
    readonly code: TaskFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}
