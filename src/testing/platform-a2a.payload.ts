import { isObject, type JsonObject, newId } from './platform-wire.js';

/** What the agent answered, or how forwarding ended without an answer. */
export interface AgentReply {
  kind: 'answered' | 'busy' | 'unreachable';
  status: number;
  text: string;
}

const BUILT_IN_REPLY = { kind: 'message', role: 'agent', parts: [{ kind: 'text', text: 'ok' }] };

/** The built-in agent of a workspace without URL: 200 with a JSON-RPC `ok` message. */
export function builtInReply(body: JsonObject): AgentReply {
  const reply = { jsonrpc: '2.0', id: body.id ?? null, result: BUILT_IN_REPLY };
  return { kind: 'answered', status: 200, text: JSON.stringify(reply) };
}

/** Fills `jsonrpc`/`id` and `messageId` as the platform does; `undefined` when not a JSON object. */
export function normalize(raw: unknown): JsonObject | undefined {
  if (!isObject(raw)) return undefined;
  let payload: JsonObject = structuredClone(raw);
  if (!('jsonrpc' in payload)) {
    payload = {
      jsonrpc: '2.0',
      id: newId(),
      method: payload.method ?? null,
      params: payload.params ?? null,
    };
  }
  const params = payload.params;
  if (isObject(params) && isObject(params.message) && !('messageId' in params.message)) {
    params.message.messageId = newId();
  }
  return payload;
}

/** The agent's `{"error": "..."}` text, if its answer has one. */
export function agentError(text: string): string | undefined {
  const parsed = parseOrText(text);
  return isObject(parsed) && typeof parsed.error === 'string' && parsed.error !== ''
    ? parsed.error
    : undefined;
}

/** The parsed JSON, or the text itself. */
export function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The text the platform takes from an agent's reply: the first text part, else the whole body. */
export function replyText(body: string): string {
  const parsed = parseOrText(body);
  if (!isObject(parsed) || !isObject(parsed.result)) return body;
  const fromParts = (parts: unknown): string | undefined => {
    if (!Array.isArray(parts)) return undefined;
    for (const part of parts) {
      if (isObject(part) && part.kind === 'text' && typeof part.text === 'string') return part.text;
    }
    return undefined;
  };
  const direct = fromParts(parsed.result.parts);
  if (direct !== undefined) return direct;
  const artifacts = parsed.result.artifacts;
  if (Array.isArray(artifacts)) {
    for (const artifact of artifacts) {
      const text = isObject(artifact) ? fromParts(artifact.parts) : undefined;
      if (text !== undefined) return text;
    }
  }
  return body;
}
