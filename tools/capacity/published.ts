// Cloudflare's published limits and prices (Workers Paid), as the capacity model uses them:
// the ONE place in the repository that knows them (docs/deploy.md and docs/scaling.md
// quote `npm run capacity`). Each number carries the page it was read from, as
// Cloudflare's docs stated it in 2026-12. When a page changes, change the number here and
// nowhere else; `npx vitest run --config tools/vitest.config.ts tools/test/capacity.test.ts`
// then says which expected loads moved.

export const READ_ON = "2026-12";

const GB = 1e9;
const MILLION = 1e6;

export const LIMITS = {
  d1: {
    // https://developers.cloudflare.com/d1/platform/limits/ — "How much work can a D1
    // database do?": each database is single-threaded and runs queries one at a time, so its
    // throughput is 1 s ÷ the average query time ("If your average query takes 1 ms, you can
    // run approximately 1,000 queries per second").
    queriesPerSecondAt1Ms: 1000,
    // https://developers.cloudflare.com/d1/platform/limits/ — "Maximum database size: 10 GB
    // (Workers Paid)", and "the 10 GB limit of a D1 database cannot be further increased".
    databaseBytes: 10 * GB,
    // https://developers.cloudflare.com/d1/platform/limits/ — "Databases per account: 50,000
    // (Workers Paid)" (the page dated 2026-04-21; another copy of the page reads 1,000,000,
    // the first 100,000 included: 50,000 is the stricter).
    databasesPerAccount: 50_000,
    // https://developers.cloudflare.com/d1/platform/limits/ — "Maximum storage per account:
    // 1 TB (Workers Paid)", which "can be increased by request".
    storagePerAccountBytes: 1000 * GB,
    // https://developers.cloudflare.com/d1/platform/limits/ — "you can bind up to ~5,000 D1
    // databases to a single Worker script" (~150 bytes of the 1 MB script metadata each).
    bindingsPerWorker: 5000,
    // https://developers.cloudflare.com/d1/best-practices/read-replication/ — "Read replica
    // locations": a replica in every supported region, the primary's included: ENAM, WNAM,
    // WEUR, EEUR, APAC, OC. Writes always go to the primary.
    readReplicaRegions: 6,
  },
  queues: {
    // https://developers.cloudflare.com/queues/platform/limits/ — "Per-queue message
    // throughput: 5,000 messages per second"; above it send() throws "Too Many Requests".
    messagesPerSecondPerQueue: 5000,
    // https://developers.cloudflare.com/queues/platform/limits/ — "Concurrent consumer
    // invocations: 250 (push-based only)".
    concurrentConsumersPerQueue: 250,
    // https://developers.cloudflare.com/queues/platform/limits/ — "Maximum consumer batch
    // size: 100 messages".
    maxBatchMessages: 100,
    // https://developers.cloudflare.com/queues/platform/limits/ — "Queues: 10,000 per account".
    queuesPerAccount: 10_000,
  },
  durableObjects: {
    // https://developers.cloudflare.com/durable-objects/platform/limits/ — FAQ "How much work
    // can a single Durable Object do?": "An individual Object has a soft limit of 1,000
    // requests per second"; unlimited objects per namespace.
    requestsPerSecondPerObject: 1000,
  },
  workers: {
    // https://developers.cloudflare.com/workers/platform/limits/ — "Requests: No limit
    // (Workers Paid)". Null: nothing to cross; the bill is the limit.
    requestsPerSecond: null,
  },
  r2: {
    // https://developers.cloudflare.com/r2/platform/limits/ — no read or write rate per bucket
    // is published (only 50 bucket-management operations per second per bucket).
    readsPerSecond: null,
  },
} as const;

export type Allowance = {
  /** Included in the Workers Paid plan each month, in `unit`. */
  included: number;
  /** Dollars per `per` units beyond what is included. */
  price: number;
  per: number;
  unit: string;
};

export const PRICES = {
  // https://developers.cloudflare.com/workers/platform/pricing/ — "The Workers Paid plan
  // includes … a minimum charge of $5 USD per month for an account".
  workersPaidMonthly: 5,
  // https://developers.cloudflare.com/workers/platform/pricing/#workers — Standard: "10
  // million included per month, +$0.30 per additional million" requests.
  workersRequests: { included: 10 * MILLION, price: 0.3, per: MILLION, unit: "requests" } satisfies Allowance,
  // https://developers.cloudflare.com/workers/platform/pricing/#workers — "30 million CPU
  // milliseconds included per month, +$0.02 per additional million CPU milliseconds".
  workersCpuMs: { included: 30 * MILLION, price: 0.02, per: MILLION, unit: "CPU ms" } satisfies Allowance,
  // https://developers.cloudflare.com/workers/platform/pricing/ — "There are no additional
  // charges for data transfer (egress) or throughput (bandwidth)"; R2: "Egress (data
  // transfer to Internet): Free".
  egressPerGB: 0,

  // https://developers.cloudflare.com/durable-objects/platform/pricing/ — "Requests: 1
  // million, + $0.15/million. Includes HTTP requests, RPC sessions, WebSocket messages, and
  // alarm invocations".
  durableObjectRequests: { included: MILLION, price: 0.15, per: MILLION, unit: "requests" } satisfies Allowance,
  // https://developers.cloudflare.com/durable-objects/platform/pricing/ — "Duration:
  // 400,000 GB-s, + $12.50/million GB-s", billed for "the 128 MB of memory your Durable
  // Object is allocated" while it is active.
  durableObjectDurationGbS: { included: 400_000, price: 12.5, per: MILLION, unit: "GB-s" } satisfies Allowance,
  durableObjectGbAllocated: 0.128,
  // https://developers.cloudflare.com/durable-objects/platform/pricing/ — SQLite storage
  // backend: "Rows reads: First 25 billion / month included + $0.001 / million rows",
  // "Rows written: First 50 million / month included + $1.00 / million rows" (each
  // setAlarm() one row written); billed since 2026-01.
  durableObjectRowsRead: { included: 25_000 * MILLION, price: 0.001, per: MILLION, unit: "rows" } satisfies Allowance,
  durableObjectRowsWritten: { included: 50 * MILLION, price: 1, per: MILLION, unit: "rows" } satisfies Allowance,

  // https://developers.cloudflare.com/d1/platform/pricing/ — "Rows read: First 25 billion /
  // month included + $0.001 / million rows" (summed over every database of the account).
  d1RowsRead: { included: 25_000 * MILLION, price: 0.001, per: MILLION, unit: "rows" } satisfies Allowance,
  // https://developers.cloudflare.com/d1/platform/pricing/ — "Rows written: First 50 million
  // / month included + $1.00 / million rows"; an index entry is a row written too.
  d1RowsWritten: { included: 50 * MILLION, price: 1, per: MILLION, unit: "rows" } satisfies Allowance,
  // https://developers.cloudflare.com/d1/platform/pricing/ — "Storage: First 5 GB included
  // + $0.75 / GB-mo" (the sum of all databases).
  d1StorageGbMonth: { included: 5, price: 0.75, per: 1, unit: "GB-month" } satisfies Allowance,

  // https://developers.cloudflare.com/queues/platform/pricing/ — "1,000,000 operations/month
  // included + $0.40/million operations"; "An operation is counted for each 64 KB of data
  // that is written, read, or deleted", "it takes 3 operations to deliver a message".
  queueOperations: { included: MILLION, price: 0.4, per: MILLION, unit: "operations" } satisfies Allowance,
  queueOperationsPerMessage: 3,
  queueOperationBytes: 64_000,

  // https://developers.cloudflare.com/workers/platform/pricing/#r2 (the R2 table; billing
  // examples on https://developers.cloudflare.com/r2/pricing/) — Standard storage:
  // "Storage: 10 GB-month / month free, $0.015 / GB-month", "Class A Operations: 1 million
  // requests / month free, $4.50 / million", "Class B Operations: 10 million requests / month
  // free, $0.36 / million".
  r2StorageGbMonth: { included: 10, price: 0.015, per: 1, unit: "GB-month" } satisfies Allowance,
  r2ClassA: { included: MILLION, price: 4.5, per: MILLION, unit: "operations" } satisfies Allowance,
  r2ClassB: { included: 10 * MILLION, price: 0.36, per: MILLION, unit: "operations" } satisfies Allowance,
} as const;

/**
 * A month as the Queues pricing examples count it ("in a 30 day month",
 * https://developers.cloudflare.com/queues/platform/pricing/).
 */
export const SECONDS_PER_MONTH = 30 * 24 * 3600;

/** Dollars for `amount` units in a month, after what the plan includes. */
export function billed(a: Allowance, amount: number): number {
  return (Math.max(0, amount - a.included) / a.per) * a.price;
}
