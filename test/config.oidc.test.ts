import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { HOUR } from '../src/time.ts';
import { productionSettings } from './helpers/production.ts';

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const p384Pem = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('accepted');
}

describe('sign-in settings', () => {
  it('defaults: no providers, local sign-in on, sessions of 12h, MFA not required', () => {
    const config = loadConfig({});
    assert.deepEqual(config.oidc, { providers: [], requireMfa: false });
    assert.equal(config.localSignIn, true);
    assert.equal(config.sessionMaxAgeMs, 12 * HOUR);
  });

  it('reads the unprefixed set as one provider named oidc, and several prefixed ones', () => {
    const single = loadConfig({
      OIDC_ISSUER: 'https://login.example/tenant/v2.0',
      OIDC_CLIENT_ID: 'relay',
      OIDC_CLIENT_SECRET: 'shh',
      SESSION_MAX_AGE: '8h',
    });
    assert.equal(single.oidc.providers[0]?.name, 'oidc');
    assert.equal(single.oidc.providers[0]?.scopes, 'openid profile email');
    assert.equal(single.sessionMaxAgeMs, 8 * HOUR);
    const several = loadConfig({
      OIDC_PROVIDERS: 'CIS2, entra',
      OIDC_CIS2_ISSUER: 'https://cis2.example/oidc',
      OIDC_CIS2_CLIENT_ID: 'relay-cis2',
      OIDC_CIS2_CLIENT_KEY: rsaPem,
      OIDC_CIS2_LABEL: 'Sign in with NHS Care Identity',
      OIDC_CIS2_MFA_ACR: 'AAL3_ANY',
      OIDC_ENTRA_ISSUER: 'https://login.example/tenant/v2.0',
      OIDC_ENTRA_CLIENT_ID: 'relay-entra',
      OIDC_ENTRA_CLIENT_SECRET: 'shh',
      OIDC_REQUIRE_MFA: 'on',
      LOCAL_SIGN_IN: 'off',
    });
    assert.deepEqual(
      several.oidc.providers.map((p) => [p.name, p.label, Boolean(p.clientKey), p.mfaAcr]),
      [
        ['cis2', 'Sign in with NHS Care Identity', true, ['aal3_any']],
        ['entra', 'Sign in with entra', false, []],
      ],
    );
    assert.equal(several.oidc.requireMfa, true);
    assert.equal(several.localSignIn, false);
  });

  it('refuses each incomplete or unsafe provider, naming the variable', () => {
    assert.deepEqual(
      problemsOf({ OIDC_PROVIDERS: 'cis2', OIDC_CIS2_CLIENT_SECRET: 'a', OIDC_CIS2_CLIENT_KEY: rsaPem }),
      [
        'OIDC_CIS2_ISSUER is required',
        'OIDC_CIS2_CLIENT_ID is required',
        'OIDC_CIS2_CLIENT_SECRET or OIDC_CIS2_CLIENT_KEY is required (one, not both)',
      ],
    );
    const base = { OIDC_ISSUER: 'https://op.example', OIDC_CLIENT_ID: 'relay' };
    assert.deepEqual(problemsOf({ ...base, OIDC_CLIENT_KEY: p384Pem }), [
      'OIDC_CLIENT_KEY: must be an RSA or P-256 EC private key',
    ]);
    assert.deepEqual(problemsOf({ ...base, OIDC_CLIENT_KEY: '/no/such/key.pem' }), [
      'OIDC_CLIENT_KEY: must be a PEM private key or the path of one',
    ]);
    assert.ok(
      problemsOf({
        RELAY_ENV: 'production',
        OIDC_ISSUER: 'http://op.example',
        OIDC_CLIENT_ID: 'relay',
        OIDC_CLIENT_SECRET: 'x',
      }).includes('OIDC_ISSUER: must be an https:// URL when RELAY_ENV=production'),
    );
    assert.deepEqual(problemsOf({ LOCAL_SIGN_IN: 'off' }), [
      'LOCAL_SIGN_IN=off needs an identity provider (OIDC_ISSUER or OIDC_PROVIDERS), or nobody can sign in',
    ]);
    assert.deepEqual(
      problemsOf({ SESSION_MAX_AGE: '0m', OIDC_REQUIRE_MFA: 'yes' }),
      ['OIDC_REQUIRE_MFA: must be on or off', 'SESSION_MAX_AGE: must be longer than zero'].sort((a, b) =>
        a < b ? 1 : -1,
      ),
    );
  });

  it('maps a groups claim to roles only when both settings are given, each role a Relay role', () => {
    const base = { OIDC_ISSUER: 'https://op.example', OIDC_CLIENT_ID: 'relay', OIDC_CLIENT_SECRET: 'x' };
    assert.equal(loadConfig(base).oidc.providers[0]?.roleMapping, undefined);
    const mapped = loadConfig({
      ...base,
      OIDC_ROLES_CLAIM: 'roles',
      OIDC_ROLE_MAP: 'sg-leads=safeguarding, a=b=admin',
    });
    assert.deepEqual(mapped.oidc.providers[0]?.roleMapping, {
      claim: 'roles',
      map: [
        { value: 'sg-leads', role: 'safeguarding' },
        { value: 'a=b', role: 'admin' },
      ],
    });
    assert.deepEqual(problemsOf({ ...base, OIDC_ROLES_CLAIM: 'groups' }), [
      'OIDC_ROLES_CLAIM and OIDC_ROLE_MAP go together: set both or neither',
    ]);
    assert.deepEqual(problemsOf({ ...base, OIDC_ROLES_CLAIM: 'groups', OIDC_ROLE_MAP: 'leads=boss' }), [
      'OIDC_ROLE_MAP: each entry is claim-value=role, the role one of crew, safeguarding, recipient, admin, auditor',
    ]);
  });

  it('asks local accounts for a second factor by default in production only (MFA_LOCAL)', () => {
    assert.equal(loadConfig({}).mfaLocal, 'optional');
    assert.equal(loadConfig({ MFA_LOCAL: 'required' }).mfaLocal, 'required');
    const production = { ...productionSettings(), BOUNCES: 'off' };
    assert.equal(loadConfig(production).mfaLocal, 'required');
    assert.equal(loadConfig({ ...production, MFA_LOCAL: 'optional' }).mfaLocal, 'optional');
    assert.deepEqual(problemsOf({ MFA_LOCAL: 'sometimes' }), ['MFA_LOCAL: must be required or optional']);
  });
});
