/** NHS numbers: ten digits, the last a modulus-11 check digit over the first nine. */

// Ten digits, however they are grouped: crews copy numbers from letters, cards and other systems that
// print them as 943 476 5919, 943-476-5919 or unbroken. Spaces and dashes go before the check digit.
const SEPARATORS = /[\s-]+/g;
const NHS_NUMBER_SHAPE = /^\d{10}$/;
const WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2] as const;

export function isValidNhsNumber(s: string): boolean {
  // Between digits only: a leading or trailing separator is more likely a paste of something else.
  if (!/^\d(?:[\s-]*\d)*$/.test(s)) return false;
  const digits = normaliseNhsNumber(s);
  if (!NHS_NUMBER_SHAPE.test(digits)) return false;
  // Placeholders such as 0000000000 and 1111111111 pass the checksum but are never issued;
  // accepting them would link the person to whatever else was filed under the placeholder.
  if (/^(\d)\1{9}$/.test(digits)) return false;
  return checkDigit(digits) === Number(digits[9]);
}

/** The ten digits without spaces or dashes: the form to store and compare. Validate with isValidNhsNumber first. */
export function normaliseNhsNumber(s: string): string {
  return s.replace(SEPARATORS, '');
}

/** The expected tenth digit, or undefined when the first nine digits can have no valid check digit. */
function checkDigit(digits: string): number | undefined {
  const sum = WEIGHTS.reduce((total, weight, i) => total + weight * Number(digits[i]), 0);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  return check === 10 ? undefined : check;
}
