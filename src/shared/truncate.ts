/**
 * First `max` characters of `text`, counted in code points as Python's slicing counts them,
 * so a truncated summary never ends in half a surrogate pair.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (let taken = 0; taken < max && end < text.length; taken++) {
    end += (text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1;
  }
  return text.slice(0, end);
}

/**
 * Host text bound for the platform: cut to `max` code points, and NUL (which the platform's
 * database refuses in text, failing the whole request) replaced by U+FFFD.
 */
export function boundText(text: string, max: number): string {
  return truncate(text, max).replaceAll('\u0000', '\uFFFD');
}
