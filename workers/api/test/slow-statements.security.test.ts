// A slow statement is its own problem: timeouts of one SQL statement, sent as often as an
// attacker likes, open that statement's breaker and never the database's, so every other
// route keeps reading D1; timeouts of several different statements at once do count
// against the database.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BindingGuard, breakerStates, DependencyError, guardD1, resetBreakers, SLOW_SCOPES_FOR_DEPENDENCY, statementScope } from "../../../lib/bindings/guard.ts";

/**
 * The real D1 with some statements made slow. A truly slow query cannot show this here:
 * workerd runs the local D1 on the test's own thread, so a query busy for a second also
 * stops the timer that should time it out. So the statements named "slow" wait (on a
 * timer, like CHAOS latency) before they reach D1, and everything else is D1 as is.
 */
function slowedD1(delayMs: number): D1Database {
  const delayed = <T>(f: () => Promise<T>) => new Promise<void>((r) => setTimeout(r, delayMs)).then(f);
  return {
    prepare(sql: string) {
      const real = env.DB.prepare(sql.replace(/^-- slow \d+\n/, ""));
      if (!sql.startsWith("-- slow")) return real;
      const wrap = (stmt: D1PreparedStatement): D1PreparedStatement =>
        ({ bind: (...v: unknown[]) => wrap(stmt.bind(...v)), first: (c?: string) => delayed(() => (c === undefined ? stmt.first() : stmt.first(c))), all: () => delayed(() => stmt.all()), run: () => delayed(() => stmt.run()), raw: () => delayed(() => stmt.raw()) }) as unknown as D1PreparedStatement;
      return wrap(real);
    },
    batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
  } as unknown as D1Database;
}

/** A statement the slowed D1 delays; `n` makes different statements (different SQL). */
const slow = (n: number) => `-- slow ${n}\nSELECT ${n} AS n`;

beforeEach(() => resetBreakers({ minCalls: 4 }));
afterEach(() => resetBreakers());

describe("timeouts", () => {
  it("of one statement open its own breaker only: other statements go on, and it fails fast with circuit_open", async () => {
    const db = guardD1(new BindingGuard(null, { timeoutsMs: { d1: 20 } }), "d1:slow", slowedD1(200));
    for (let i = 0; i < 6; i++) {
      const err = await db.prepare(slow(0)).first().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DependencyError);
      expect((err as DependencyError).reason).toBe(i < 4 ? "timeout" : "circuit_open");
    }
    const states = breakerStates();
    expect(states["d1:slow"]).toBe("closed");
    expect(states[`d1:slow|${statementScope(slow(0))}`]).toBe("open");
    expect(await db.prepare("SELECT 41 + 1 AS n").first("n")).toBe(42);
  });

  it(`of ${SLOW_SCOPES_FOR_DEPENDENCY} different statements count against the database`, async () => {
    const db = guardD1(new BindingGuard(null, { timeoutsMs: { d1: 20 } }), "d1:slower", slowedD1(200));
    for (let n = 0; n < SLOW_SCOPES_FOR_DEPENDENCY + 3; n++) {
      await expect(db.prepare(slow(n)).first()).rejects.toBeInstanceOf(DependencyError);
    }
    expect(breakerStates()["d1:slower"]).toBe("open");
    await expect(db.prepare("SELECT 1").first()).rejects.toMatchObject({ reason: "circuit_open" });
  });
});
