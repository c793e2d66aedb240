/**
 * Reading a request Bundle defensively: it is untrusted JSON, so every step checks the shape it
 * walks into and remembers the FHIRPath of where it stands, for the OperationOutcome to name.
 */
import { RelayError } from '../errors.ts';
import { BARS_EVENTS_SYSTEM, REFERRAL_REQUEST_EVENT } from './fhir.codes.ts';

export type Json = Record<string, unknown>;

/** A JSON object and the FHIRPath that reaches it from the Bundle. */
export interface Located {
  value: Json;
  path: string;
}

export function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** An own property only, so a body's prototype tricks cannot feed the mapping. */
export function field(from: unknown, key: string): unknown {
  const value = asObject(from);
  return value !== undefined && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** The object at `from.key[index]` (or `from.key` with no index), located. */
export function child(from: Located | undefined, key: string, index?: number): Located | undefined {
  const raw = field(from?.value, key);
  const value = asObject(index === undefined ? raw : asList(raw)[index]);
  return from && value
    ? { value, path: `${from.path}.${key}${index === undefined ? '' : `[${index}]`}` }
    : undefined;
}

/** The first entry of `from.key` that matches, located. */
export function firstWhere(
  from: Located | undefined,
  key: string,
  matches: (value: Json) => boolean,
): Located | undefined {
  const index = asList(field(from?.value, key)).findIndex(
    (v) => asObject(v) !== undefined && matches(v as Json),
  );
  return index < 0 ? undefined : child(from, key, index);
}

/** The value of Relay's (or anyone's) extension `url` on `from`, and its FHIRPath. */
export function extensionsOf(from: Located | undefined, url: string): Located[] {
  return asList(field(from?.value, 'extension')).flatMap((raw, i) => {
    const value = asObject(raw);
    return value && field(value, 'url') === url && from
      ? [{ value, path: `${from.path}.extension[${i}]` }]
      : [];
  });
}

function malformed(path: string, message: string): RelayError {
  return new RelayError('malformed-request', 'The body is not a FHIR message Bundle Relay can read', [
    { path, message },
  ]);
}

/** The entries of a message Bundle, with references resolved the way FHIR messaging does. */
export class MessageBundle {
  private readonly entries: (Located & { fullUrl: unknown })[];

  readonly root: Located;

  private constructor(bundle: Json) {
    this.root = { value: bundle, path: 'Bundle' };
    this.entries = asList(field(bundle, 'entry')).flatMap((raw, i) => {
      const resource = asObject(field(asObject(raw), 'resource'));
      const fullUrl = field(asObject(raw), 'fullUrl');
      return resource ? [{ value: resource, path: `Bundle.entry[${i}].resource`, fullUrl }] : [];
    });
  }

  /**
   * Checks what any message must have before its content is read: a Bundle of type message whose
   * first entry is a MessageHeader for a BaRS referral request, whose focus is the ServiceRequest in
   * the Bundle. Anything else is a 400.
   */
  static read(body: unknown): { bundle: MessageBundle; header: Located; request: Located } {
    const value = asObject(body);
    if (!value || field(value, 'resourceType') !== 'Bundle') {
      throw malformed('Bundle', 'The body must be a FHIR Bundle resource.');
    }
    if (field(value, 'type') !== 'message') throw malformed('Bundle.type', 'Must be message.');
    const id = field(value, 'id');
    if (typeof id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) {
      throw malformed(
        'Bundle.id',
        'Must be the message id (1 to 64 letters, digits, - and .): the response names it.',
      );
    }
    const bundle = new MessageBundle(value);
    const first = asObject(asList(field(value, 'entry'))[0]);
    const header = asObject(field(first, 'resource'));
    if (!header || field(header, 'resourceType') !== 'MessageHeader') {
      throw malformed('Bundle.entry[0].resource', 'The first entry must be the MessageHeader.');
    }
    const located = { value: header, path: 'Bundle.entry[0].resource' };
    const event = asObject(field(header, 'eventCoding'));
    if (field(event, 'system') !== BARS_EVENTS_SYSTEM || field(event, 'code') !== REFERRAL_REQUEST_EVENT) {
      throw malformed(
        `${located.path}.eventCoding`,
        `Must be ${REFERRAL_REQUEST_EVENT} from ${BARS_EVENTS_SYSTEM}: Relay takes referral requests only.`,
      );
    }
    const request = bundle.resolve(child(located, 'focus', 0), ['ServiceRequest']);
    if (!request) {
      throw malformed(`${located.path}.focus[0]`, 'Must refer to the ServiceRequest entry of this Bundle.');
    }
    return { bundle, header: located, request };
  }

  /** The entry a Reference points at, by its fullUrl or by `Type/id`. */
  resolve(reference: Located | undefined, type: string | readonly string[]): Located | undefined {
    const target = field(reference?.value, 'reference');
    if (typeof target !== 'string' || target === '') return undefined;
    const types = [type].flat();
    return this.entries.find(({ value, fullUrl }) => {
      const resourceType = field(value, 'resourceType');
      if (typeof resourceType !== 'string' || !types.includes(resourceType)) return false;
      // A urn:uuid fullUrl is referred to by itself; a resource with an id also as Type/id.
      return target === fullUrl || target === `${resourceType}/${String(field(value, 'id'))}`;
    });
  }

  firstOfType(type: string, where: (entry: Located) => boolean = () => true): Located | undefined {
    return this.entries.find((entry) => field(entry.value, 'resourceType') === type && where(entry));
  }
}
