/**
 * Why a send failed, as one word an operator can act on: the log line carries it (the detail may
 * name an address, so it stays in the database), and the delivery's page shows it beside the detail.
 */
export const FAILURE_REASONS = [
  'tls',
  'auth',
  'dns',
  'refused',
  'timeout',
  'connection',
  'rejected',
  'webhook',
  'mesh',
  'internal',
  'other',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** What each reason means and where to look first; shown on the delivery's page. */
export const FAILURE_REASON_TEXT: Record<FailureReason, string> = {
  tls: 'TLS: the mail server’s certificate was not trusted (expired, self-signed or an unknown CA) or the TLS handshake failed; for MESH, the MESH server’s certificate (MESH_CA_FILE) or Relay’s own (MESH_CLIENT_CERT) was refused',
  auth: 'Authentication: the mail server refused the user name or password in SMTP_URL',
  dns: 'DNS: the mail server’s or webhook’s name did not resolve',
  refused: 'Refused: nothing accepted the connection at that address and port',
  timeout: 'Time-out: no answer within SEND_TIMEOUT',
  connection: 'Connection: the connection dropped or was reset',
  rejected: 'Rejected: the server answered with an error code',
  webhook: 'Webhook: the team’s webhook refused or was refused',
  mesh: 'MESH: the MESH server refused the message (Relay’s mailbox credentials, the team’s mailbox or workflow), or is not configured',
  internal: 'Internal: Relay could not prepare the message',
  other: 'Other: see the detail',
};

const RULES: [FailureReason, RegExp][] = [
  // MESH's answers first: its own words may mention authentication or a timeout.
  ['mesh', /^MESH (?:HTTP|not configured|mailbox)/],
  [
    'tls',
    /certificate|self[- ]signed|\bTLS\b|\bSSL\b|CERT_|unable to (?:verify|get local issuer)|ERR_TLS|handshake/i,
  ],
  ['auth', /\bEAUTH\b|^5(?:30|34|35|38)\b|authenticat|invalid login/i],
  ['dns', /\bEDNS\b|ENOTFOUND|EAI_AGAIN|getaddrinfo/i],
  ['refused', /ECONNREFUSED/],
  ['timeout', /ETIMEDOUT|timed? ?out|timeout/i],
  ['connection', /ECONNRESET|ECONNECTION|ESOCKET|EPIPE|closed unexpectedly|network:/i],
  ['internal', /^internal error/i],
  ['webhook', /^HTTP \d|^refused: /],
  ['rejected', /^[45]\d\d\b/],
];

/** Classifies the stored detail of a failed attempt (`deliveries.last_error`). */
export function failureReason(detail: string | null | undefined): FailureReason | undefined {
  if (!detail) return undefined;
  return RULES.find(([, pattern]) => pattern.test(detail))?.[0] ?? 'other';
}
