// The real D1, counting every round trip (statement executions, batches, exec), also
// those made through its sessions (withSession), for tests that pin how many a route costs.
export function countingD1(db: D1Database) {
  const calls: string[] = [];
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "bind") return (...args: unknown[]) => wrapStatement(value.apply(target, args));
        if (["first", "all", "run", "raw"].includes(prop as string)) {
          return (...args: unknown[]) => {
            calls.push(String(prop));
            return value.apply(target, args);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const wrap = <T extends D1Database | D1DatabaseSession>(inner: T): T =>
    new Proxy(inner, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== "function") return value;
        if (prop === "prepare") return (sql: string) => wrapStatement(value.call(target, sql) as D1PreparedStatement);
        if (prop === "batch" || prop === "exec") {
          return (...args: unknown[]) => {
            calls.push(String(prop));
            return value.apply(target, args);
          };
        }
        // A request's D1 session (d1-sessions/) makes its round trips on the same database.
        if (prop === "withSession") return (...args: unknown[]) => wrap(value.apply(target, args) as D1DatabaseSession);
        return value.bind(target);
      },
    });
  return { db: wrap(db), calls };
}
