import type { Context } from 'hono';
import type { z } from 'zod';
import { AuthError } from '../errors.js';
import { describeJson } from '../util/describe-json.js';

/**
 * A route's request body: a zod schema for the JSON types (a failure is 400 "Failed to
 * deserialize…"), the keys that must be present even when `null` is allowed, and the
 * "must not be empty" rules (a failure is 422), in the order the wire tables list them.
 */
export interface BodySpec<T> {
  schema: z.ZodType<T>;
  /** Fields whose key must be present, in table order (serde's "missing field"). */
  present?: readonly string[];
  nonEmpty?: ReadonlyArray<readonly [field: keyof T & string, message: string]>;
}

const JSON_TYPE = /^application\/(?:json|[^\s/;]+\+json)\s*(?:;.*)?$/i;

function at(obj: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

const deserializeError = (detail: string): AuthError =>
  new AuthError('invalid_json', `Invalid JSON: Failed to deserialize the JSON body into the target type: ${detail}`);

/** Extracts and validates a JSON body (wire §2.1 shape 2). */
export async function readJsonBody<T>(c: Context, spec: BodySpec<T>): Promise<T> {
  const contentType = c.req.header('content-type');
  if (!contentType || !JSON_TYPE.test(contentType.trim())) {
    throw new AuthError('invalid_json', 'Invalid JSON: Expected request with `Content-Type: application/json`');
  }
  let text: string;
  try {
    text = await c.req.text();
  } catch (e) {
    throw new AuthError('invalid_json', `Invalid JSON: Failed to buffer the request body: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new AuthError('invalid_json', `Invalid JSON: Failed to parse the request body as JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw deserializeError(`invalid type: ${describeJson(value)}, expected a map`);
  }
  for (const field of spec.present ?? []) {
    if (!(field in value)) throw deserializeError(`missing field \`${field}\``);
  }
  const parsed = spec.schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const found = at(value, path);
    const name = path.map(String).join('.');
    if (found === undefined && path.length === 1) throw deserializeError(`missing field \`${name}\``);
    const expected = issue?.code === 'invalid_type' ? `a ${issue.expected}` : (issue?.message ?? 'a valid value');
    throw deserializeError(`${name}: invalid type: ${describeJson(found)}, expected ${expected}`);
  }
  const data = parsed.data;
  for (const [field, message] of spec.nonEmpty ?? []) {
    const v = data[field];
    if (typeof v === 'string' && v.length === 0) {
      throw new AuthError('validation_failed', `Validation error: ${field}: ${message}`);
    }
  }
  return data;
}
