/**
 * What a production configuration refuses to load without, with stand-in secrets and addresses:
 * enough for a test that only loads a configuration. productionEnv (process.ts) builds on it with
 * the free ports a running node needs.
 */
export function productionSettings(): Record<string, string> {
  return {
    RELAY_ENV: 'production',
    RELAY_SECRET: 'p'.repeat(40),
    RELAY_DATA_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
    AUDIT_KEY: 'an-audit-key-of-at-least-32-characters',
    SMTP_URL: 'smtp://mail.example.org:587',
    SAFEGUARDING_EMAIL: 'duty.desk@example.org',
    BASE_URL: 'https://relay.example',
    BOUNCE_DOMAIN: 'bounces.relay.example',
  };
}
