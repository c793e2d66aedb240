const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A label/value table in the plain style mail clients render reliably. */
export function htmlTable(rows: [string, string][]): string {
  const body = rows
    .map(
      ([label, value]) =>
        `<tr><th align="left" valign="top" style="padding:4px 12px 4px 0">${escapeHtml(label)}</th>` +
        `<td style="padding:4px 0;white-space:pre-wrap">${escapeHtml(value)}</td></tr>`,
    )
    .join('');
  return `<table role="presentation" style="border-collapse:collapse;font-family:Arial,sans-serif">${body}</table>`;
}

/**
 * `Label: value` lines for a plain-text email. A value's own line breaks (free text such as the
 * concern, or anything stored before intake refused them in single-line fields) continue on
 * indented lines, so no value can forge a line of its own ("Acknowledge receipt: …"); other control
 * characters are dropped.
 */
export function textTable(rows: [string, string][]): string {
  return rows.map(([label, value]) => `${label}: ${plainValue(value)}`).join('\n');
}

const INDENT = '    ';

function plainValue(value: string): string {
  return value
    .split(/\r\n|[\r\n\u2028\u2029\u0085\v\f]/)
    .map((line) => line.replace(/\p{Cc}/gu, (c) => (c === '\t' ? ' ' : '')))
    .join(`\n${INDENT}`);
}
