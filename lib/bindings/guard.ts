// Every binding call of both Workers goes through here: a circuit breaker per dependency
// (fail fast while it is open), injected faults and latency when CHAOS is on (local, test
// and staging only), a timeout, and one classification of what went wrong. A dependency's
// failure surfaces as a DependencyError, which the shared error handler answers with a
// retryable 503; an application error (a UNIQUE constraint, a Durable Object's own
// exception) passes through unchanged and counts as the dependency working.
import { CircuitBreaker, type BreakerOptions, type BreakerState } from "./breaker.ts";
import { CHAOS_MARK, chaosFor, type ChaosConfig, type ChaosEnv, type DependencyKind } from "./chaos.ts";
import { log } from "../log.ts";

declare const __MARQUEE_CHAOS__: boolean | undefined;

export type FailureReason = "fault" | "timeout" | "circuit_open";

export class DependencyError extends Error {
  readonly dependency: string;
  readonly reason: FailureReason;
  /** Read by `callDurableObject` like the runtime's own flag: worth another attempt. */
  readonly retryable: boolean;

  constructor(dependency: string, reason: FailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DependencyError";
    this.dependency = dependency;
    this.reason = reason;
    this.retryable = reason !== "circuit_open";
  }
}

/** The DependencyError behind an error, if any: libraries wrap them (drizzle's "Failed query" keeps it as `cause`). */
export function dependencyErrorOf(err: unknown): DependencyError | null {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DependencyError) return e;
  }
  return null;
}

export function isDependencyError(err: unknown): boolean {
  return dependencyErrorOf(err) !== null;
}

/** How long one call of each kind may take before it counts as failed. */
export const defaultTimeoutsMs: Record<DependencyKind, number> = {
  d1: 5_000,
  r2: 10_000,
  do: 5_000,
  queue: 5_000,
  cache: 2_000,
  service: 10_000,
};

export type GuardOptions = { timeoutsMs?: Partial<Record<DependencyKind, number>>; breaker?: Partial<BreakerOptions> };

/** The breakers of this isolate, one per dependency (e.g. "d1:DB", "do:ACCOUNT_STREAMS"). */
const breakers = new Map<string, CircuitBreaker>();
let breakerOptions: Partial<BreakerOptions> = {};

export function breakerFor(dependency: string): CircuitBreaker {
  let breaker = breakers.get(dependency);
  if (!breaker) breakers.set(dependency, (breaker = new CircuitBreaker(breakerOptions)));
  return breaker;
}

/** Tests start each case with closed breakers (and may tune them). */
export function resetBreakers(options: Partial<BreakerOptions> = {}): void {
  breakers.clear();
  recentTimeouts.clear();
  breakerOptions = options;
}

/** A timeout counts against a whole dependency once this many different statements timed out within SLOW_WINDOW_MS. */
export const SLOW_SCOPES_FOR_DEPENDENCY = 3;
const SLOW_WINDOW_MS = 10_000;
/** Per dependency: statement scope → when it last timed out (bounded: the oldest go first). */
const recentTimeouts = new Map<string, Map<string, number>>();

/** Records a timeout of `scope`; true when enough different statements of `dependency` time out to blame it. */
function slowScopes(dependency: string, scope: string): boolean {
  const now = Date.now();
  let scopes = recentTimeouts.get(dependency);
  if (!scopes) recentTimeouts.set(dependency, (scopes = new Map()));
  scopes.delete(scope);
  scopes.set(scope, now);
  for (const [s, at] of scopes) if (at <= now - SLOW_WINDOW_MS || scopes.size > 100) scopes.delete(s);
  return scopes.size >= SLOW_SCOPES_FOR_DEPENDENCY;
}

/** A short name for a statement (or a batch's statements), to key its own breaker by. */
export function statementScope(sql: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < sql.length; i++) h = Math.imul(h ^ sql.charCodeAt(i), 0x01000193);
  return `sql:${(h >>> 0).toString(16)}`;
}

/** What this isolate has seen of one dependency lately: its breaker's state and the window's calls and failures. */
export function dependencyHealth(dependency: string): { state: BreakerState; calls: number; failed: number } {
  const breaker = breakers.get(dependency);
  return breaker ? { state: breaker.state, ...breaker.recent() } : { state: "closed", calls: 0, failed: 0 };
}

export function breakerStates(): Record<string, string> {
  return Object.fromEntries([...breakers].map(([name, b]) => [name, b.state]));
}

/** Errors that mean the dependency answered: the request, not the dependency, is at fault. */
function isApplicationError(kind: DependencyKind, err: unknown): boolean {
  const e = err as { message?: unknown; retryable?: unknown; overloaded?: unknown; remote?: unknown } | null;
  const message = typeof e?.message === "string" ? e.message : String(err);
  switch (kind) {
    case "d1":
      // Transient D1 errors (Cloudflare's list of retryable ones, and load shedding) are the
      // dependency's; everything else (constraints, SQL) is the statement's.
      return !/network connection lost|overloaded|internal error|object to be reset|code was updated|timed? ?out|unavailable|too many requests|exceeded/i.test(message);
    case "do":
      // An exception thrown by the object's own code arrives with `remote` set; the
      // runtime's transient failures are flagged retryable or overloaded.
      return e?.remote === true && e.retryable !== true && e.overloaded !== true;
    case "r2":
      // R2 refusing a body that does not match its checksum, or a condition that failed, is the request's doing.
      return /sha-?256|md5|checksum|digest|precondition/i.test(message);
    default:
      return false;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class BindingGuard {
  readonly chaos: ChaosConfig | null;
  readonly #timeouts: Record<DependencyKind, number>;

  constructor(chaos: ChaosConfig | null, options: GuardOptions = {}) {
    this.chaos = chaos;
    this.#timeouts = { ...defaultTimeoutsMs, ...options.timeoutsMs };
  }

  /**
   * Runs one binding call under the dependency's breaker, chaos and timeout. `scope` names
   * what the call does (for D1, its SQL): a timeout is first that statement's fault, not
   * the database's. It opens the statement's own breaker (`<dependency>|<scope>`), so one
   * slow query, however often it is sent, fails fast on its own routes and cannot open
   * the database's breaker for every other route; only timeouts of several different
   * statements at once (SLOW_SCOPES_FOR_DEPENDENCY within a window) count against the
   * dependency, since then it is the database that is slow. Faults always count against it.
   */
  async call<T>(kind: DependencyKind, dependency: string, label: string, run: () => Promise<T>, scope?: string): Promise<T> {
    const breaker = breakerFor(dependency);
    if (!breaker.allow()) throw new DependencyError(dependency, "circuit_open", `${dependency} is failing; not calling it for a few seconds (${label})`);
    const scoped = scope === undefined ? null : breakerFor(`${dependency}|${scope}`);
    if (scoped && !scoped.allow()) {
      breaker.abstain();
      throw new DependencyError(dependency, "circuit_open", `this statement of ${dependency} keeps timing out; not running it for a few seconds (${label})`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await this.#inject(kind, dependency, label);
      const ms = this.#timeouts[kind];
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DependencyError(dependency, "timeout", `${dependency} did not answer within ${ms} ms (${label})`)), ms);
      });
      const result = await Promise.race([run(), timeout]);
      breaker.record(true);
      scoped?.record(true);
      return result;
    } catch (err) {
      if (!(err instanceof DependencyError) && isApplicationError(kind, err)) {
        breaker.record(true);
        scoped?.record(true);
        throw err;
      }
      if (scoped && err instanceof DependencyError && err.reason === "timeout") {
        scoped.record(false);
        if (slowScopes(dependency, scope!)) breaker.record(false);
        else breaker.abstain();
      } else {
        breaker.record(false);
        scoped?.abstain();
      }
      if (err instanceof DependencyError) throw err;
      throw new DependencyError(dependency, "fault", `${dependency} failed (${label}): ${(err as Error)?.message ?? String(err)}`, { cause: err });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  async #inject(kind: DependencyKind, dependency: string, label: string): Promise<void> {
    // Production builds define __MARQUEE_CHAOS__ as false: the rest of this body is dead code there.
    if (typeof __MARQUEE_CHAOS__ !== "undefined" && !__MARQUEE_CHAOS__) return;
    const chaos = this.chaos;
    if (!chaos) return;
    const latency = chaos.latencyMs[kind];
    if (latency > 0) await sleep(latency);
    const one = chaos.dependencies.get(dependency);
    let rate = chaos.rates[kind];
    if (one) {
      const now = Date.now();
      const first = chaos.firstCallAt.get(dependency) ?? (chaos.firstCallAt.set(dependency, now), now);
      if (now - first >= one.afterMs) rate = one.rate;
    }
    if (chaos.random() < rate) throw new DependencyError(dependency, "fault", `${CHAOS_MARK} ${dependency} fault (${label})`);
  }
}

/** SQL that only reads (D1's own test for its automatic retries): SELECT, WITH, EXPLAIN. */
const WRITES = /\b(insert|update|delete|replace|create|drop|alter|pragma|attach|detach|vacuum|reindex|begin|commit|rollback|savepoint|release)\b/i;
export function isReadOnlySql(sql: string): boolean {
  return /^\s*(select|with|explain)\b/i.test(sql) && !WRITES.test(sql);
}


/**
 * One more try after a dependency failure (never after an application error), following
 * a short jittered pause: for read-only statements (what D1 does for its own read
 * retries), and for writes a caller knows to be idempotent. The guard never retries a
 * write on its own.
 */
export async function retryOnce<T>(call: (attempt: number) => Promise<T>): Promise<T> {
  try {
    return await call(1);
  } catch (err) {
    const failure = dependencyErrorOf(err);
    if (!failure?.retryable) throw err;
    await sleep(5 + Math.random() * 20);
    return call(2);
  }
}

// ---- D1 ----------------------------------------------------------------------------

/**
 * D1 statements sent through the guard in this isolate, per database binding
 * ("d1:DB", "d1:WATCH_0"): a batch counts each of its statements, a retry counts again.
 * What the scaling work is measured by (docs/scaling.md); tests read it around the work
 * they measure.
 */
const d1Statements = new Map<string, number>();

export function d1StatementCounts(): Record<string, number> {
  return Object.fromEntries(d1Statements);
}

function countStatements(dependency: string, n: number): void {
  d1Statements.set(dependency, (d1Statements.get(dependency) ?? 0) + n);
}

const INNER = Symbol("inner statement");
const SQL = Symbol("sql");
type Guarded<T> = T & { [INNER]: T };

function unwrapStatement(s: D1PreparedStatement): D1PreparedStatement {
  return (s as Guarded<D1PreparedStatement>)[INNER] ?? s;
}

function guardStatement(guard: BindingGuard, dependency: string, sql: string, inner: D1PreparedStatement): D1PreparedStatement {
  const readOnly = isReadOnlySql(sql);
  const scope = statementScope(sql);
  const run = <T>(label: string, f: () => Promise<T>) => {
    const call = () => {
      countStatements(dependency, 1);
      return guard.call("d1", dependency, label, f, scope);
    };
    return readOnly ? retryOnce(call) : call();
  };
  const statement = {
    [INNER]: inner,
    [SQL]: sql,
    bind: (...values: unknown[]) => guardStatement(guard, dependency, sql, inner.bind(...values)),
    first: (column?: string) => run("first", () => (column === undefined ? inner.first() : inner.first(column))),
    all: () => run("all", () => inner.all()),
    run: () => run("run", () => inner.run()),
    raw: (options?: { columnNames?: boolean }) => run("raw", () => (options?.columnNames ? inner.raw({ columnNames: true }) : inner.raw())),
  };
  return statement as unknown as D1PreparedStatement;
}

type D1Like = Pick<D1Database, "prepare" | "batch">;

function guardedD1Methods(guard: BindingGuard, dependency: string, inner: D1Like) {
  return {
    prepare: (sql: string) => guardStatement(guard, dependency, sql, inner.prepare(sql)),
    batch: <T = unknown>(statements: D1PreparedStatement[]) => {
      const unwrapped = statements.map(unwrapStatement);
      // A batch is one transaction: it may be retried only when every statement reads.
      const readOnly = statements.every((s) => (s as Guarded<D1PreparedStatement>)[INNER] !== undefined && isReadOnlySql(sqlOf(s)));
      const scope = statementScope(statements.map(sqlOf).join(";\n"));
      const call = () => {
        countStatements(dependency, statements.length);
        return guard.call("d1", dependency, `batch of ${statements.length}`, () => inner.batch<T>(unwrapped), scope);
      };
      return readOnly ? retryOnce(call) : call();
    },
  };
}

function sqlOf(s: D1PreparedStatement): string {
  return (s as unknown as { [SQL]?: string })[SQL] ?? "";
}

export function guardD1(guard: BindingGuard, dependency: string, db: D1Database): D1Database {
  const methods = guardedD1Methods(guard, dependency, db);
  return {
    ...methods,
    exec: (query: string) => guard.call("d1", dependency, "exec", () => db.exec(query)),
    dump: () => guard.call("d1", dependency, "dump", () => db.dump()),
    withSession: (constraintOrBookmark?: string) => {
      const session = db.withSession(constraintOrBookmark as D1SessionConstraint);
      const m = guardedD1Methods(guard, dependency, session);
      return {
        ...m,
        getBookmark: () => session.getBookmark(),
      } as unknown as D1DatabaseSession;
    },
  } as unknown as D1Database;
}

// ---- R2 ----------------------------------------------------------------------------

export function guardR2(guard: BindingGuard, dependency: string, bucket: R2Bucket): R2Bucket {
  const call = <T>(label: string, f: () => Promise<T>) => guard.call("r2", dependency, label, f);
  return {
    head: (key: string) => call("head", () => bucket.head(key)),
    get: (key: string, options?: R2GetOptions) => call("get", () => bucket.get(key, options)),
    put: (key: string, value: Parameters<R2Bucket["put"]>[1], options?: R2PutOptions) => call("put", () => bucket.put(key, value, options)),
    delete: (keys: string | string[]) => call("delete", () => bucket.delete(keys)),
    list: (options?: R2ListOptions) => call("list", () => bucket.list(options)),
    createMultipartUpload: (key: string, options?: R2MultipartOptions) => call("createMultipartUpload", () => bucket.createMultipartUpload(key, options)),
    // Parts of an upload go to R2 on their own object; resuming one is not a call.
    resumeMultipartUpload: (key: string, uploadId: string) => bucket.resumeMultipartUpload(key, uploadId),
  } as unknown as R2Bucket;
}

// ---- Durable Objects -----------------------------------------------------------------

/** Properties of a stub that are not calls to the object. */
const STUB_PLAIN = new Set<PropertyKey>(["id", "name", "then", "toJSON", "constructor"]);

function guardStub<T extends object>(guard: BindingGuard, dependency: string, stub: T): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof prop === "symbol" || STUB_PLAIN.has(prop) || typeof value !== "function") return value;
      return (...args: unknown[]) => guard.call("do", dependency, String(prop), () => Promise.resolve(Reflect.apply(value as (...a: unknown[]) => unknown, target, args)));
    },
  });
}

export function guardDurableObjects<N extends DurableObjectNamespace<any>>(guard: BindingGuard, dependency: string, namespace: N): N {
  return new Proxy(namespace, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) => guardStub(guard, dependency, Reflect.apply(value, target, args) as object);
      }
      return value.bind(target);
    },
  });
}

// ---- Queues --------------------------------------------------------------------------

export function guardQueue<Body>(guard: BindingGuard, dependency: string, queue: Queue<Body>): Queue<Body> {
  return {
    send: (body: Body, options?: QueueSendOptions) => guard.call("queue", dependency, "send", () => queue.send(body, options)),
    sendBatch: (messages: Iterable<MessageSendRequest<Body>>, options?: QueueSendBatchOptions) =>
      guard.call("queue", dependency, "sendBatch", () => queue.sendBatch(messages, options)),
  } as unknown as Queue<Body>;
}

// ---- Service bindings ------------------------------------------------------------------

export function guardService<F extends Fetcher>(guard: BindingGuard, dependency: string, service: F): F {
  return new Proxy(service, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "fetch") return (...args: Parameters<Fetcher["fetch"]>) => guard.call("service", dependency, "fetch", () => target.fetch(...args));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// ---- Cache API -------------------------------------------------------------------------

/**
 * The Cache API degrades to a miss: a failed or slow `match` answers undefined, a failed
 * `put` or `delete` is logged and forgotten. Callers never see a cache error.
 */
export function guardCache(guard: BindingGuard, cache: Cache, dependency = "cache:default"): Cache {
  const quietly = async <T>(label: string, fallback: T, f: () => Promise<T>): Promise<T> => {
    try {
      return await guard.call("cache", dependency, label, f);
    } catch (err) {
      log("warn", { event: "dependency_failed", requestId: "", dependency, message: `${label}: ${(err as Error).message}` });
      return fallback;
    }
  };
  return {
    match: (request: RequestInfo | URL, options?: CacheQueryOptions) => quietly<Response | undefined>("match", undefined, () => cache.match(request, options)),
    put: (request: RequestInfo | URL, response: Response) =>
      quietly("put", undefined, async () => {
        await cache.put(request, response);
      }),
    delete: (request: RequestInfo | URL, options?: CacheQueryOptions) => quietly("delete", false, () => cache.delete(request, options)),
  } as unknown as Cache;
}

// ---- A Worker's env ------------------------------------------------------------------

export type BindingPlan = {
  d1?: readonly string[];
  r2?: readonly string[];
  do?: readonly string[];
  queue?: readonly string[];
  service?: readonly string[];
};

const GUARD = Symbol.for("marquee.bindingGuard");

/**
 * One chaos configuration per spec and environment in this isolate, so a seeded run's
 * draws go on from call to call whichever env object a request brings, and the decision
 * is logged once.
 */
const chaosConfigs = new Map<string, ChaosConfig | null>();
function chaosOf(env: ChaosEnv): ChaosConfig | null {
  const key = `${env.ENVIRONMENT ?? ""}|${env.CHAOS ?? ""}`;
  if (chaosConfigs.has(key)) return chaosConfigs.get(key)!;
  const decision = chaosFor(env);
  if (decision.refused) log("error", { event: "chaos_refused", requestId: "", message: decision.refused });
  else if (decision.config) log("warn", { event: "chaos_on", requestId: "", message: `fault injection on: ${decision.config.spec}` });
  chaosConfigs.set(key, decision.config);
  return decision.config;
}
const guardedEnvs = new WeakMap<object, object>();

/**
 * The env a Worker's handlers use: the same object with the listed bindings wrapped.
 * Made once per env object (the runtime passes the same one to every request).
 */
export function guardEnv<E extends ChaosEnv & object>(env: E, plan: BindingPlan, options: GuardOptions = {}): E {
  const known = guardedEnvs.get(env);
  if (known) return known as E;
  if ((env as { [GUARD]?: BindingGuard })[GUARD]) return env;
  const guard = new BindingGuard(chaosOf(env), options);
  const guarded: Record<PropertyKey, unknown> = { ...env, [GUARD]: guard };
  const source = env as Record<string, unknown>;
  for (const name of plan.d1 ?? []) if (source[name]) guarded[name] = guardD1(guard, `d1:${name}`, source[name] as D1Database);
  for (const name of plan.r2 ?? []) if (source[name]) guarded[name] = guardR2(guard, `r2:${name}`, source[name] as R2Bucket);
  for (const name of plan.do ?? []) if (source[name]) guarded[name] = guardDurableObjects(guard, `do:${name}`, source[name] as DurableObjectNamespace);
  for (const name of plan.queue ?? []) if (source[name]) guarded[name] = guardQueue(guard, `queue:${name}`, source[name] as Queue);
  for (const name of plan.service ?? []) if (source[name]) guarded[name] = guardService(guard, `service:${name}`, source[name] as Fetcher);
  guardedEnvs.set(env, guarded);
  return guarded as E;
}

/** The guard of an env made by `guardEnv` (a plain one, with no chaos, for an env that was not). */
export function guardOf(env: object): BindingGuard {
  return (env as { [GUARD]?: BindingGuard })[GUARD] ?? (fallbackGuard ??= new BindingGuard(null));
}
let fallbackGuard: BindingGuard | undefined;

/** This location's Cache API (caches.default) behind the env's guard. */
export function edgeCache(env: object): Cache {
  return guardCache(guardOf(env), caches.default);
}

/** Whether fault injection is on for this env, and with what spec (for the health check). */
export function chaosSpecOf(env: object): string | null {
  return guardOf(env).chaos?.spec ?? null;
}
