/** `text` up to the first `separator`, or all of it when there is none (a URL's path, a header's media type). */
export function beforeFirst(text: string, separator: string): string {
  const at = text.indexOf(separator);
  return at < 0 ? text : text.slice(0, at);
}
