// Playback from tests: a seeded playable catalog, members on a plan, extra signed-in
// devices of one account, and the calls a player makes.
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { assets, titles } from "../../../d1/schema.ts";
import { assetExtras } from "../../../lib/media-index.ts";
import { ratingLevel } from "../../../lib/maturity.ts";
import type { PlanId } from "../../../lib/plans.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { seedCatalog } from "../../../tools/seed/demo-catalog.ts";
import { createSession } from "../auth/sessions.ts";
import { activateDevPlan } from "../billing/subscriptions.ts";
import { bumpCatalogVersion } from "../../../d1/catalog-version.ts";
import { call, signUp } from "./auth-client.ts";
import { smallCatalog } from "./fixtures.ts";
import type { StartedPlayback } from "../../../lib/playback-session.ts";

export type Started = StartedPlayback;

/**
 * smallCatalog ("first-light", PG movie; "second-wind", TV-14 series of three episodes)
 * on a real asset in R2, plus an R-rated movie, a movie whose video is still uploading,
 * and one whose availability ended.
 */
export async function seedPlayableCatalog(): Promise<void> {
  const asset = await seedSyntheticAsset(env.MEDIA, "asset-one", { heights: [240, 720, 1080] });
  const now = new Date();
  await seedCatalog(env.DB, smallCatalog, [asset.index], now);
  const orm = drizzle(env.DB);
  const movie = (id: string, rating: string, extra: Partial<typeof titles.$inferInsert>) => ({
    id,
    kind: "movie" as const,
    name: id,
    synopsis: id,
    releaseYear: 2020,
    maturityRating: rating,
    maturityLevel: ratingLevel(rating),
    createdAt: now,
    updatedAt: now,
    assetId: "asset-one",
    ...extra,
  });
  await orm.batch([
    orm.insert(assets).values({ id: "asset-pending", status: "pending", durationSec: 6, maxHeight: 720, extras: assetExtras(asset.index), createdAt: now }),
    orm.insert(titles).values([
      movie("late-night", "R", {}),
      movie("coming-soon", "PG", { assetId: "asset-pending" }),
      movie("long-gone", "PG", { availableUntil: new Date(now.getTime() - 60_000) }),
      movie("no-video", "PG", { assetId: null }),
    ]),
    bumpCatalogVersion(orm),
  ]);
}

export type Member = Awaited<ReturnType<typeof memberOn>>;

/** A new account on `planId` (null: never subscribed), with its first profile's id. */
export async function memberOn(planId: PlanId | null) {
  const m = await signUp();
  if (planId) await activateDevPlan(env.DB, m.accountId, planId, new Date());
  const me = (await (await call("/v1/me", { headers: m.headers })).json()) as { profiles: { id: string }[] };
  return { ...m, profileId: me.profiles[0]!.id };
}

/** Another signed-in device of the same account (a session made directly: no password hashing per device). */
export async function anotherDevice(accountId: string, name: string) {
  const session = await createSession(env.DB, accountId, "device", name, new Date());
  return { Authorization: `Bearer ${session.token}` };
}

export function startPlayback(headers: Record<string, string>, json: Record<string, unknown>) {
  return call("/v1/playback/sessions", { headers, json });
}

export async function started(res: Response): Promise<Started> {
  if (res.status !== 201 && res.status !== 200) throw new Error(`start: ${res.status} ${await res.text()}`);
  return (await res.json()) as Started;
}

export function heartbeat(headers: Record<string, string>, id: string, positionSec = 0) {
  return call(`/v1/playback/sessions/${id}/heartbeat`, { headers, json: { positionSec } });
}

export function stopPlayback(headers: Record<string, string>, id: string) {
  return call(`/v1/playback/sessions/${id}`, { method: "DELETE", headers });
}

/** The account's AccountStreams object, for tests that look inside or move its clock. */
export function streamsObject(accountId: string) {
  return env.ACCOUNT_STREAMS.get(env.ACCOUNT_STREAMS.idFromName(accountId));
}
