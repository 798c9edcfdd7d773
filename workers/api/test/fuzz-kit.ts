// What the route-group fuzz files share: the routes' own zod schemas as the judge of what
// is valid, malformed-body generators built from a file's own junk values, a snapshot of
// tables (and R2) to prove nothing was written, and the tally of refusals.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";
import type { z } from "zod";
import { errorBodySchema } from "../../../lib/errors.ts";
import { createApp } from "../app.ts";

const routeDefs = createApp().openAPIRegistry.definitions.flatMap((d) => (d.type === "route" ? [d.route] : []));

/** The zod schema a route validates one part of its request with, read from the app's own OpenAPI registry. */
export function routeSchema(method: string, path: string, part: "body" | "query" | "params" = "body"): z.ZodType {
  const route = routeDefs.find((r) => r.method === method && r.path === path);
  const schema = part === "body" ? (route?.request?.body?.content as Record<string, { schema: z.ZodType }> | undefined)?.["application/json"]?.schema : (route?.request?.[part] as z.ZodType | undefined);
  if (!schema) throw new Error(`no ${part} schema for ${method} ${path}`);
  return schema;
}

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Row count and a SHA-256 of every row of each table, and with `r2` every object (key, size, etag). */
export async function snapshot(tables: string[], options: { r2?: boolean } = {}) {
  const results = await env.DB.batch(tables.map((t) => env.DB.prepare(`SELECT * FROM "${t}" ORDER BY rowid`)));
  const parts: [string, unknown[]][] = tables.map((t, i) => [t, results[i]!.results]);
  if (options.r2) {
    const objects: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await env.MEDIA.list({ cursor });
      objects.push(...page.objects.map((o) => `${o.key} ${o.size} ${o.etag}`));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    parts.push(["r2", objects]);
  }
  const out: Record<string, { rows: number; hash: string }> = {};
  for (const [name, rows] of parts) {
    out[name] = { rows: rows.length, hash: hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(rows)))) };
  }
  return out;
}

/** A body that fails its schema: random objects, or a valid-looking one with one field broken, missing, or one too many. */
export const badObjectOf = (junk: fc.Arbitrary<unknown>) => (valid: Record<string, unknown>) =>
  fc.oneof(
    fc.dictionary(fc.string({ maxLength: 12 }), junk, { maxKeys: 6 }),
    fc.tuple(fc.constantFrom(...Object.keys(valid), "extra"), junk).map(([k, v]) => ({ ...valid, [k]: v })),
    fc.constantFrom(...Object.keys(valid)).map((k) => Object.fromEntries(Object.entries(valid).filter(([key]) => key !== k))),
    junk,
  );

/** Raw bytes as a body: not JSON at all, JSON cut short after `{"field": `, or JSON's near-misses. */
export const rawBodyOf = (field: string) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((b) => new TextDecoder().decode(b)),
    fc.string({ maxLength: 200 }).map((s) => `{"${field}": ${s}`),
    fc.constantFrom("", "{", "[]", "null", "{}}", '{"a":1,}', "\u0000", '{"__proto__":{"x":1}}'),
  );

/** A JSON-typed body that fails its schema: a broken object, or bytes that are not JSON. */
export const jsonBodyOf = (badObject: (valid: Record<string, unknown>) => fc.Arbitrary<unknown>, rawBody: fc.Arbitrary<string>) => (valid: Record<string, unknown>) =>
  fc.oneof(badObject(valid).map((o) => JSON.stringify(o) ?? "null"), rawBody);

/** Any string that could sit in one path segment (the fuzz files add their own near-miss ids). */
export const segmentString = fc.string({ minLength: 1, maxLength: 120 }).filter((s) => !/[/?#]/.test(s) && s !== "." && s !== "..");

export const parseJson = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
};

/** The statuses seen and the requests sent of each kind, so a test can check it reached every route's own checks. */
export class Refusals {
  readonly seen = new Map<number, number>();
  readonly ran = new Map<string, number>();
  current = "";

  clear(): void {
    this.seen.clear();
    this.ran.clear();
  }

  count(status: number): void {
    this.seen.set(status, (this.seen.get(status) ?? 0) + 1);
    this.ran.set(this.current, (this.ran.get(this.current) ?? 0) + 1);
  }

  /** A 4xx among `allowed` (the statuses the route documents for this kind of mistake), in the standard error body. */
  async expect(res: Response, allowed: number[], what: string): Promise<void> {
    this.count(res.status);
    const text = await res.text();
    const said = `${this.current} ${what} -> ${res.status} ${text.slice(0, 200)}`;
    expect(res.status, said).toBeGreaterThanOrEqual(400);
    expect(res.status, said).toBeLessThan(500);
    expect(allowed, said).toContain(res.status);
    expect(errorBodySchema.safeParse(parseJson(text)).success, `${what}: not the standard error body: ${text.slice(0, 200)}`).toBe(true);
  }
}
