import { type RecordedRequest } from '../../src/testing/index.js';

/** The text of a recorded self-message (`POST /workspaces/<id>/a2a`). */
export function selfMessageTextOf(request: RecordedRequest): string {
  return (request.body as { params: { message: { parts: { text: string }[] } } }).params.message
    .parts[0].text;
}
