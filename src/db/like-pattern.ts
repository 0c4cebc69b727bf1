/** `%`, `_` and `\` in a search are literal characters, not LIKE wildcards (`\` is the escape both engines' queries declare or default to). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
