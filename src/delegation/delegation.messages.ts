import { truncate } from '../shared/truncate.js';
import { type DelegationResult } from './delegation.types.js';

/**
 * Results a self-message names one by one. A platform lists at most 50 delegations, so this is
 * only reached after a long outage; the cap keeps the message within what the platform accepts.
 */
export const MAX_RESULTS_LISTED = 50;

/**
 * The self-message that wakes the agent. It names each result by status, short id, summary and
 * error only: `response_preview` is text another agent wrote, and putting it in a user-role
 * message would let that agent instruct this one. The agent reads full results from the file.
 */
export function selfMessageText(
  results: readonly DelegationResult[],
  parentName: string | undefined,
  resultsFile: string,
): string {
  const lines = results.slice(0, MAX_RESULTS_LISTED).map((result) => {
    let line = `- [${result.status}] Delegation ${truncate(result.delegation_id, 8)}: ${truncate(result.summary, 80)}`;
    if (result.error) line += `\n Error: ${truncate(result.error, 100)}`;
    return line;
  });
  if (results.length > MAX_RESULTS_LISTED) {
    lines.push(`- … and ${results.length - MAX_RESULTS_LISTED} more, listed in ${resultsFile}`);
  }
  const instruction = parentName
    ? `\n\nIMPORTANT: Report these results back to your parent '${parentName}' by delegating a ` +
      'summary to them. Use delegate_task or delegate_task_async with a concise status report. ' +
      'Also use send_message_to_user to notify the user.'
    : '\n\nReport results using send_message_to_user to notify the user.';
  return (
    'Delegation results are ready. Review them and take appropriate action:\n' +
    lines.join('\n') +
    instruction
  );
}

/** The JSON-RPC body of the self-message. */
export function selfMessageBody(text: string): unknown {
  return {
    method: 'message/send',
    params: { message: { role: 'user', parts: [{ type: 'text', text }] } },
  };
}

/** The canvas notification for one result. */
export function notifyText(result: DelegationResult): string {
  let message = `Delegation ${result.status}: ${truncate(result.summary, 100)}`;
  if (result.response_preview) message += `\nResult: ${truncate(result.response_preview, 200)}`;
  return message;
}
