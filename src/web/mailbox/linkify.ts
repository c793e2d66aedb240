export interface TextSegment {
  text: string;
  /** Set when the segment is a link to Relay itself. */
  href?: string;
}

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
// Sentence punctuation after a URL belongs to the sentence, not the link.
const TRAILING_PUNCTUATION = /[.,;:!?)\]]+$/;

/** Only Relay's own pages: `http://relay.test.evil.example` must not pass for `http://relay.test`. */
function isRelayUrl(url: string, baseUrl: string): boolean {
  if (!URL.canParse(url)) return false;
  return url === baseUrl || ['/', '?', '#'].some((next) => url.startsWith(baseUrl + next));
}

/**
 * Splits an email's text into plain runs and links. Only links into this Relay (BASE_URL) become
 * clickable, so the mailbox cannot be used to dress up an arbitrary link as one of Relay's; the
 * template escapes every run.
 */
export function linkify(text: string, baseUrl: string): TextSegment[] {
  const segments: TextSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(TRAILING_PUNCTUATION, '');
    const start = match.index;
    if (!isRelayUrl(url, baseUrl)) continue;
    if (start > last) segments.push({ text: text.slice(last, start) });
    segments.push({ text: url, href: url });
    last = start + url.length;
  }
  if (last < text.length) segments.push({ text: text.slice(last) });
  return segments;
}
