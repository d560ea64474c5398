import { truncate } from './truncate.js';

/** Longest piece of outside text (platform answers, adapter errors) one log line shows. */
export const MAX_LOGGED_TEXT = 200;

/**
 * Control characters (C0, DEL, C1), line and paragraph separators and the bidirectional
 * overrides: each could forge a log line, move the cursor of a terminal or reorder what it shows.
 */
const UNSAFE_CHARACTERS =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text that did not come from this module, made safe for one log line: unsafe characters written
 * as `\uXXXX` escapes (`\n`, `\r`, `\t` as such), and anything beyond `max` characters cut with a
 * note of how much was left out. Every log line that shows platform or adapter text uses this.
 */
export function forLog(value: unknown, max = MAX_LOGGED_TEXT): string {
  const text = typeof value === 'string' ? value : String(value);
  const shown = truncate(text, max);
  const escaped = shown.replace(UNSAFE_CHARACTERS, escapeCharacter);
  return shown.length < text.length
    ? `${escaped}…[${text.length - shown.length} more characters]`
    : escaped;
}

function escapeCharacter(character: string): string {
  switch (character) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}
