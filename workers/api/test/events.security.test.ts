// Watch events that move what every member sees must be real: each names a stream the
// server started for its profile and title (a signed id), a profile counts at most once
// per title and day in Top 10, Trending, co-watch and viewer counts, and a profile's
// batches are rate limited.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { parsePlaybackKeys } from "../../../lib/playback-token.ts";
import { RECENT_TITLES } from "../events/apply-events.ts";
import { newStreamId, verifyStreamId } from "../playback/stream-ids.ts";
import { call } from "./auth-client.ts";
import { deliver, eventually, fromStreams, message, scalar, streamIdFor, watchEvent } from "./events-client.ts";
import { memberOn, seedPlayableCatalog, startPlayback, started } from "./playback-client.ts";

await seedPlayableCatalog();

const post = (headers: Record<string, string>, events: unknown[]) => call("/v1/events", { headers, json: { events } });
const plays = (titleId: string) => scalar("SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE title_id = ? AND country = '*'", titleId);
const viewers = (titleId: string) => scalar("SELECT COALESCE(SUM(viewers), 0) AS n FROM title_stats WHERE title_id = ?", titleId);

async function expectRefusedStream(res: Response, index = 0) {
  const text = await res.text();
  expect(res.status, text.slice(0, 200)).toBe(403);
  const body = errorBodySchema.parse(JSON.parse(text));
  expect(body.error.details).toEqual({ reason: "unknown_playback_session", index });
}

describe("stream ids", () => {
  it("verify for what they were made for only, under any configured key, and in one spelling", async () => {
    const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
    const scope = { accountId: "acc_1", profileId: "prf_1", titleId: "first-light", episodeId: null };
    const id = await newStreamId(keys, scope, { deviceSessionId: "dev", clientSessionId: undefined });
    expect(id).toMatch(/^pbs_[A-Za-z0-9_-]{38}$/);
    expect(await verifyStreamId(keys, id, scope)).toBe(true);
    for (const other of [{ accountId: "acc_2" }, { profileId: "prf_2" }, { titleId: "late-night" }, { episodeId: "second-wind-s1e1" }]) {
      expect(await verifyStreamId(keys, id, { ...scope, ...other }), JSON.stringify(other)).toBe(false);
    }
    // A changed character anywhere, and the MAC's canonical siblings in its last character.
    for (let i = 4; i < id.length; i++) {
      const changed = `${id.slice(0, i)}${id[i] === "A" ? "B" : "A"}${id.slice(i + 1)}`;
      expect(await verifyStreamId(keys, changed, scope), changed).toBe(false);
    }
    // Rotation: an id made under the second key still verifies while that key is configured.
    const [first, second] = env.PLAYBACK_TOKEN_KEYS.split(",");
    const rotated = await newStreamId(await parsePlaybackKeys(second!), scope, { deviceSessionId: "dev", clientSessionId: undefined });
    expect(await verifyStreamId(keys, rotated, scope)).toBe(true);
    expect(await verifyStreamId(await parsePlaybackKeys(first!), rotated, scope)).toBe(false);
  });

  it("stay the same for the same device's retried Play (clientSessionId), and differ for another device", async () => {
    const m = await memberOn("premium");
    const clientSessionId = crypto.randomUUID();
    const a = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId }));
    const again = await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(a.id);
    const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
    expect(await verifyStreamId(keys, a.id, { accountId: m.accountId, profileId: m.profileId, titleId: "first-light", episodeId: null })).toBe(true);
    const elsewhere = await newStreamId(keys, { accountId: m.accountId, profileId: m.profileId, titleId: "first-light", episodeId: null }, { deviceSessionId: "another device", clientSessionId });
    expect(elsewhere).not.toBe(a.id);
  });
});

describe("POST /v1/events", () => {
  it("refuses an invented, another account's, another profile's or another title's stream: 403, nothing queued", async () => {
    const m = await memberOn("premium");
    const other = await memberOn("premium");
    const second = ((await (await call("/v1/profiles", { headers: m.headers, json: { name: "Second" } })).json()) as { id: string }).id;
    const complete = (o: Parameters<typeof watchEvent>[1]) => watchEvent(m.profileId, { type: "complete", titleId: "late-night", positionSec: 600, durationSec: 600, ...o });
    const forged = [
      complete({ playbackSessionId: "pbs_0123456789abcdef0123" }),
      complete({ playbackSessionId: `pbs_${"A".repeat(38)}` }),
      complete({ playbackSessionId: await streamIdFor(other.accountId, m.profileId, "late-night") }),
      complete({ playbackSessionId: await streamIdFor(m.accountId, second, "late-night") }),
      complete({ playbackSessionId: await streamIdFor(m.accountId, m.profileId, "first-light") }),
    ];
    const before = await plays("late-night");
    for (const event of forged) await expectRefusedStream(await post(m.headers, [event]));
    // One bad event refuses its whole batch, and says which.
    const [good] = await fromStreams(m.accountId, [complete({})]);
    await expectRefusedStream(await post(m.headers, [good, forged[0]]), 1);
    // The real stream's events go through.
    expect((await post(m.headers, [good])).status).toBe(202);
    await eventually(async () => expect(await scalar("SELECT COUNT(*) AS n FROM watch_events WHERE event_id = ?", good!.id)).toBe(1));
    expect(await scalar(`SELECT COUNT(*) AS n FROM watch_events WHERE event_id IN (${forged.map(() => "?").join(",")})`, ...forged.map((e) => e.id))).toBe(0);
    expect(await plays("late-night")).toBe(before);
  }, 30_000);

  it("accepts the events of a stream started by Play", async () => {
    const m = await memberOn("premium");
    const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    expect((await post(m.headers, [watchEvent(m.profileId, { playbackSessionId: s.id, type: "start", positionSec: 0 })])).status).toBe(202);
  });

  it("holds a profile to 20 batches per 10 s: a burst past it gets 429 with Retry-After, and those are not queued", async () => {
    const m = await memberOn("premium");
    const batches = await Promise.all(Array.from({ length: 30 }, () => fromStreams(m.accountId, [watchEvent(m.profileId)])));
    const answers = await Promise.all(batches.map((events) => post(m.headers, events)));
    const statuses = answers.map((r) => r.status);
    // The binding's fixed window may turn during the burst: at most 40, at least 20 pass.
    const accepted = statuses.filter((s) => s === 202).length;
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(accepted).toBeLessThan(30);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused.length).toBe(30 - accepted);
    expect(refused[0]!.headers.get("retry-after")).toBe("10");
    expect(errorBodySchema.parse(await refused[0]!.json()).error.code).toBe("RATE_LIMITED");
    const refusedIds = batches.filter((_, i) => statuses[i] === 429).map((b) => b[0]!.id);
    await eventually(async () => expect(await scalar("SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ?", m.profileId)).toBe(accepted));
    expect(await scalar(`SELECT COUNT(*) AS n FROM watch_events WHERE event_id IN (${refusedIds.map(() => "?").join(",")})`, ...refusedIds)).toBe(0);
  }, 30_000);
});

describe("shared counters", () => {
  const start = (accountId: string, profileId: string, titleId: string, receivedAt = Date.now()) =>
    message(accountId, watchEvent(profileId, { type: "start", titleId, positionSec: 0 }), { receivedAt });

  it("count a profile once per title per day, however many starts, batches or streams it sends", async () => {
    const m = await memberOn("premium");
    const [playsBefore, viewersBefore] = [await plays("first-light"), await viewers("first-light")];
    for (let b = 0; b < 4; b++) await deliver(Array.from({ length: 50 }, () => start(m.accountId, m.profileId, "first-light")));
    expect((await plays("first-light")) - playsBefore).toBe(1);
    expect((await viewers("first-light")) - viewersBefore).toBe(1);
    // Another profile counts again, once.
    const n = await memberOn("premium");
    await deliver([start(n.accountId, n.profileId, "first-light"), start(n.accountId, n.profileId, "first-light")]);
    expect((await plays("first-light")) - playsBefore).toBe(2);
    // The next UTC day the first profile counts again.
    await deliver([start(m.accountId, m.profileId, "first-light", Date.now() + 86_400_000)]);
    expect(await scalar("SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE title_id = 'first-light' AND country = '*' AND day = ?", new Date(Date.now() + 86_400_000).toISOString().slice(0, 10))).toBe(1);
  });

  it("move co-watch and viewers at most once a day for a profile cycling through more titles than it remembers", async () => {
    const m = await memberOn("premium");
    // More titles than RECENT_TITLES: each start evicts the oldest, which once made every
    // restart a "first time lately" and counted its pairs again.
    const titles = Array.from({ length: RECENT_TITLES + 2 }, (_, i) => `cycle-${i}`);
    const now = new Date();
    await env.DB.batch(
      titles.map((id) =>
        env.DB.prepare("INSERT INTO titles (id, kind, name, synopsis, release_year, maturity_rating, maturity_level, created_at, updated_at) VALUES (?, 'movie', ?, '', 2020, 'PG', 1, ?, ?)").bind(id, id, now.getTime(), now.getTime()),
      ),
    );
    for (let round = 0; round < 4; round++) for (const t of titles) await deliver([start(m.accountId, m.profileId, t)]);
    const counts = await env.DB.prepare("SELECT MAX(count) AS n FROM co_watch WHERE title_id LIKE 'cycle-%'").first<number>("n");
    expect(counts).toBe(1);
    expect(await viewers(titles[0]!)).toBe(1);
    expect(await plays(titles[0]!)).toBe(1);
  });
});
