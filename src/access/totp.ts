import { generateSecret, generateURI, verify } from 'otplib';

/** A code is accepted one 30-second step either side of now, for clocks a little apart. */
const TOLERANCE_SECONDS = 30;
/** What the authenticator app shows the account as. */
const ISSUER = 'Safeguarding Relay';

export function newTotpSecret(): string {
  return generateSecret();
}

/** The otpauth:// address an authenticator app takes (typed or pasted; there is no QR code). */
export function totpUri(secret: string, email: string): string {
  return generateURI({ issuer: ISSUER, label: email, secret });
}

/** The secret in groups of four, easier to type into an app from the screen. */
export function groupedSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/** Whether `code` looks like a TOTP code at all: six digits once spaces are gone. */
export function isTotpShaped(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/**
 * The time step a right code belongs to, or undefined for a wrong one. The caller stores the step
 * and refuses it and every earlier one afterwards, so a code cannot be used twice.
 */
export async function totpStep(secret: string, code: string, now: Date): Promise<number | undefined> {
  if (!isTotpShaped(code)) return undefined;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: TOLERANCE_SECONDS,
  });
  // Only a TOTP verification carries a time step (the union's other half is HOTP's).
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}
