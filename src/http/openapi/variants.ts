/**
 * One answer a route can give (a status with one body shape and its headers) and the helpers
 * that make them. A route lists its answers; `responsesOf` merges those that share a status
 * into one OpenAPI response (several JSON shapes become `anyOf`). An answer with an empty body
 * and no Content-Type sharing a status with a bodied one (the /admin middleware's rejections
 * beside the handler's errors) sets the extension `x-empty-body: true` on that response.
 */
import { z } from 'zod';
import type { ZodOpenApiResponseObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import { envelope, errorEnvelope, extractionError } from './responses.js';

export interface Header {
  schema: z.ZodType;
  required: boolean;
  description?: string;
}

export interface Variant {
  status: number;
  says: string;
  /** Media type → body schema (`undefined`: any bytes of that type). No entry: an empty body. */
  content?: Record<string, z.ZodType | undefined>;
  headers?: Record<string, Header>;
}

export const JSON_TYPE = 'application/json';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
export const HTML_TYPE = 'text/html; charset=utf-8';

const header = (schema: z.ZodType, required: boolean, description?: string): Header =>
  description === undefined ? { schema, required } : { schema, required, description };

export const required = (schema: z.ZodType, description?: string) => header(schema, true, description);
export const optional = (schema: z.ZodType, description?: string) => header(schema, false, description);

export const RETRY_AFTER = z.string().regex(/^[1-9][0-9]*$/);

/** 200 with the envelope around `data`. */
export function ok(data: z.ZodType, says: string, headers?: Record<string, Header>): Variant {
  return { status: 200, says, content: { [JSON_TYPE]: envelope(data) }, ...(headers ? { headers } : {}) };
}

/** err(S, "m") of the wire contract: the error envelope. `says` names the messages. */
export function err(status: number, says: string, headers?: Record<string, Header>): Variant {
  return { status, says, content: { [JSON_TYPE]: errorEnvelope }, ...(headers ? { headers } : {}) };
}

/** An error envelope with an `X-Auth-Error` value from `xae` (wire §2.2). */
export function errXae(status: number, xae: readonly [string, ...string[]], says: string, always = true): Variant {
  return err(status, says, { 'X-Auth-Error': header(z.enum(xae), always) });
}

/** An empty body, no Content-Type. */
export function empty(status: number, says: string, headers?: Record<string, Header>): Variant {
  return { status, says, ...(headers ? { headers } : {}) };
}

export function text(status: number, says: string, schema: z.ZodType = z.string(), type = TEXT_TYPE): Variant {
  return { status, says, content: { [type]: schema } };
}

/** The body-extraction failures of the routes that validate a JSON body (wire §2.1 shape 2). */
export function bodyErrors(validation: boolean): Variant[] {
  const out = [
    {
      status: 400,
      says: '`Invalid JSON: …`: no JSON content type, unparseable, or a field of the wrong type',
      content: { [JSON_TYPE]: extractionError(400) },
    },
  ];
  if (validation) {
    out.push({
      status: 422,
      says: '`Validation error: <field>: …`: a required string is empty',
      content: { [JSON_TYPE]: extractionError(422) },
    });
  }
  return out;
}

/** Merges the answers into OpenAPI responses, one per status, in status order. */
export function responsesOf(variants: readonly Variant[]): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, Variant[]>();
  for (const v of variants) byStatus.set(v.status, [...(byStatus.get(v.status) ?? []), v]);
  const out: Record<string, ZodOpenApiResponseObject> = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    out[String(status)] = merge(byStatus.get(status) as Variant[]);
  }
  return out as ZodOpenApiResponsesObject;
}

function merge(vs: readonly Variant[]): ZodOpenApiResponseObject {
  const description = vs.length === 1 ? (vs[0] as Variant).says : vs.map((v) => `* ${v.says}`).join('\n');
  const res: ZodOpenApiResponseObject & Record<string, unknown> = { description };

  const media = new Map<string, Array<z.ZodType | undefined>>();
  let emptyToo = false;
  for (const v of vs) {
    if (v.content === undefined) emptyToo = true;
    else for (const [type, schema] of Object.entries(v.content)) media.set(type, [...(media.get(type) ?? []), schema]);
  }
  if (media.size > 0) {
    res.content = {};
    for (const [type, schemas] of media) {
      const schema = unionOf(schemas);
      res.content[type] = schema === undefined ? {} : { schema };
    }
    if (emptyToo) res['x-empty-body'] = true;
  }

  // A header is required when every answer of the status requires it; its schema is the union.
  const names = new Set(vs.flatMap((v) => Object.keys(v.headers ?? {})));
  if (names.size > 0) {
    const shape: Record<string, z.ZodType> = {};
    for (const name of names) {
      const hs = vs.map((v) => v.headers?.[name]);
      const schema = unionOf(hs.filter((h) => h !== undefined).map((h) => h.schema)) as z.ZodType;
      const description = hs.find((h) => h?.description !== undefined)?.description;
      const described = description === undefined ? schema : schema.meta({ description });
      shape[name] = hs.every((h) => h?.required === true) ? described : described.optional();
    }
    res.headers = z.object(shape);
  }
  return res;
}

/** One schema for several (deduplicated by identity); undefined when any is "any bytes". */
function unionOf(schemas: ReadonlyArray<z.ZodType | undefined>): z.ZodType | undefined {
  if (schemas.some((s) => s === undefined)) return undefined;
  const distinct = [...new Set(schemas)] as z.ZodType[];
  return distinct.length === 1 ? distinct[0] : z.union(distinct as [z.ZodType, z.ZodType, ...z.ZodType[]]);
}
