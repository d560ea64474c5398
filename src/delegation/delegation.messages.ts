import { createHash } from 'node:crypto';
import { truncate } from '../shared/truncate.js';
import { type DelegationResult } from './delegation.types.js';

/**
 * Results a self-message names one by one. A platform lists at most 50 delegations, so this is
 * only reached after a long outage; the cap keeps the message within what the platform accepts.
 */
export const MAX_RESULTS_LISTED = 50;

/** What the self-message says about one result: nothing another agent wrote or caused. */
export type WakeItem = Pick<DelegationResult, 'delegation_id' | 'status' | 'target_id'>;

/**
 * The self-message that wakes the agent. It names each result by status, short id and target
 * only: `summary`, `response_preview` and `error` are text another agent wrote or caused, and in
 * a user-role message they would let that agent instruct this one. The agent reads them from
 * the results file. `total` counts every result the message covers; at most
 * {@link MAX_RESULTS_LISTED} of them are named.
 */
export function selfMessageText(
  items: readonly WakeItem[],
  total: number,
  parentName: string | undefined,
  resultsFile: string,
): string {
  const named = items.slice(0, MAX_RESULTS_LISTED);
  const lines = named.map(
    (item) =>
      `- [${item.status}] Delegation ${truncate(item.delegation_id, 8)}` +
      (item.target_id ? ` to ${truncate(item.target_id, 36)}` : ''),
  );
  if (total > named.length) {
    lines.push(`- … and ${total - named.length} more, listed in ${resultsFile}`);
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

/**
 * The JSON-RPC body of the self-message. The platform keeps a `messageId` it is given and uses
 * it as the idempotency key of its queue for a busy agent (see {@link selfMessageId}).
 */
export function selfMessageBody(text: string, messageId: string): unknown {
  return {
    method: 'message/send',
    params: { message: { role: 'user', messageId, parts: [{ type: 'text', text }] } },
  };
}

/**
 * A `messageId` that is the same whenever the same results are announced again (by this
 * process after a failure, or by the next one after a kill before the wake was recorded): while
 * the first message waits in the platform's queue for a busy agent, the platform does not queue
 * a second one with the same id. UUID-shaped, as the platform's own ids.
 */
export function selfMessageId(workspaceId: string, throughOffset: number, throughId = ''): string {
  const hex = createHash('sha256')
    .update(`${workspaceId}\n${throughOffset}\n${throughId}`)
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The canvas notification for one result. */
export function notifyText(result: DelegationResult): string {
  let message = `Delegation ${result.status}: ${truncate(result.summary, 100)}`;
  if (result.response_preview) message += `\nResult: ${truncate(result.response_preview, 200)}`;
  return message;
}
