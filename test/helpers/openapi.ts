import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { LightMyRequestResponse as Response } from 'fastify';

// ajv-formats is CommonJS: under ESM its function is the default export's default.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** "~" and "/" escaped for a JSON pointer segment (RFC 6901). */
const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Checks real answers against the OpenAPI document Relay serves: the status is one the operation
 * documents, the content type one documented for that status, and the body valid against its schema.
 */
export function responseChecker(doc: { paths: Record<string, Record<string, unknown>> }) {
  // strict off: the document's own keywords (openapi, paths, example) are not JSON Schema.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi.json');
  return (method: string, path: string, response: Response): void => {
    const operation = doc.paths[path]?.[method.toLowerCase()] as
      { responses: Record<string, { content?: Record<string, unknown> }> } | undefined;
    assert.ok(operation, `${method} ${path} is documented`);
    const status = String(response.statusCode);
    const documented = operation.responses[status];
    assert.ok(documented, `${method} ${path} documents ${status} (${response.body})`);
    const type = String(response.headers['content-type'] ?? '').split(';')[0] ?? '';
    assert.ok(documented.content?.[type], `${method} ${path} ${status} documents ${type}`);
    const ref = ['#', 'paths', path, method.toLowerCase(), 'responses', status, 'content', type, 'schema']
      .map((s, i) => (i === 0 ? s : pointer(s)))
      .join('/');
    const validate = ajv.getSchema(`openapi.json${ref}`);
    assert.ok(validate, `a schema at ${ref}`);
    assert.ok(
      validate(response.json()),
      `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}\n${response.body}`,
    );
  };
}
