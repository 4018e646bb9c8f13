import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { HttpError, readJson } from './http-util.js';

/** Artifact ids are content hashes; anything else never reaches the store or the file system. */
export const ArtifactHash = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'not an artifact hash (sha256:<64 hex digits>)');

/** The first problem, as `field: message`, so a client knows exactly what to fix. */
function describe(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  if (!issue) return `invalid ${where}`;
  const field = issue.path.length > 0 ? issue.path.join('.') : where;
  return `${field}: ${issue.message}`;
}

function check<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new HttpError(400, describe(r.error, where), { field: issue?.path.join('.') || where });
  }
  return r.data;
}

export async function readBody<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.output<S>> {
  return check(schema, await readJson(req), 'body');
}

export function readQuery<S extends z.ZodType>(url: URL, schema: S): z.output<S> {
  return check(schema, Object.fromEntries(url.searchParams), 'query');
}

export function readParam<S extends z.ZodType>(value: string | undefined, schema: S, name: string): z.output<S> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value ?? '');
  } catch {
    throw new HttpError(400, `${name}: not valid URL encoding`, { field: name });
  }
  return check(schema, decoded, name);
}
