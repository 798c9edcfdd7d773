// The CPU a watch party's Durable Object spends per message, for `npm run bench:party`.
// workerd does not let code time itself (its clocks stand still while JavaScript runs, a
// Spectre mitigation), and `wrangler dev` reports no CPU time per event, so this runs the
// object's own message path — the room's rules (durable-objects/watch-party-room.ts) and
// the serialisation of every message it sends, exactly the code the object runs between
// receiving a frame and handing frames to the runtime — in this process's V8, and puts it
// beside the least any JSON protocol does with the same frame: JSON.parse and
// JSON.stringify. The runtime's own cost of a WebSocket frame is outside both.
import { addressedTo, newRoom, Room, type Outgoing } from "../../durable-objects/watch-party-room.ts";
import { PARTY_LIMITS } from "../../lib/watch-party.ts";

export type CpuFigure = { label: string; perMessageUs: number; baselineUs: number; messages: number };

/** A party of `members` members, as the object holds it after they joined. */
function partyOf(members: number, now: number) {
  const room = new Room(
    newRoom({
      partyId: "pty_AAAAAAAAAAAAAAAAAAAAAA",
      titleId: "bench",
      episodeId: null,
      assetId: "bench",
      title: "Bench",
      durationSec: 7200,
      creatorProfileId: "p0",
      creatorName: "Host",
      createdAtMs: now,
      expiresAtMs: now + PARTY_LIMITS.maxLifetimeMs,
    }),
  );
  const ids: string[] = [];
  for (let i = 0; i < members; i++) {
    const joined = room.join({ streamId: `pbs_bench_${i}_xxxxxxxxxx`, accountId: `a${i}`, profileId: `p${i}`, name: `Member ${i}`, avatar: "blue" }, now);
    if (!joined.ok) throw new Error("join refused");
    ids.push(joined.memberId);
  }
  return { room, ids };
}

/** What the object does with the room's answer: one JSON.stringify per outgoing message, and one send per addressed socket. */
function deliver(out: Outgoing[], ids: string[]): number {
  let sends = 0;
  for (const item of out) {
    const text = JSON.stringify(item.message);
    for (const id of ids) if (addressedTo(item, id)) sends += text.length > 0 ? 1 : 0;
  }
  return sends;
}

function cpuUs(run: () => unknown): number {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

/**
 * µs of CPU per message for each kind of message, in a party of `members`, against the
 * JSON round trip of the same text. Messages are spread over members and over time (the
 * object's clock advances 300 ms per message) so no rate limit refuses them: a refused
 * message would be cheaper and flatter the figure.
 */
export function measurePartyCpu(members = PARTY_LIMITS.maxMembers, messages = 40_000): CpuFigure[] {
  const kinds: { label: string; text: (i: number) => string }[] = [
    { label: "heartbeat (no change: the common message while playing)", text: (i) => JSON.stringify({ t: "heartbeat", pos: 100 + i * 0.001, buffering: false }) },
    { label: "ping (a clock sample, answered to the sender)", text: (i) => JSON.stringify({ t: "ping", c: 1_700_000_000_000 + i }) },
    { label: "seek (a new state, sent to all)", text: (i) => JSON.stringify({ t: "seek", pos: (i % 7000) + 0.5 }) },
    { label: "reaction (relayed to all)", text: () => JSON.stringify({ t: "reaction", emoji: "🍿" }) },
  ];
  const figures: CpuFigure[] = [];
  for (const kind of kinds) {
    const t0 = Date.now();
    const texts = Array.from({ length: messages }, (_, i) => kind.text(i));
    // Reactions have a bucket of their own, one per 2 s per member: space them further.
    const stepMs = kind.label.startsWith("reaction") ? 2_100 : 300;
    const baseline = () => {
      let chars = 0;
      for (const text of texts) chars += JSON.stringify(JSON.parse(text)).length;
      return chars;
    };
    const party = () => {
      const { room, ids } = partyOf(members, t0);
      room.data.control = "everyone";
      return () => runOn(room, ids, texts, t0, stepMs, kind.label);
    };
    // Warm both paths (JIT) once, then measure each three times on a fresh party, keeping the least.
    party()();
    baseline();
    let best = Infinity;
    let bestBase = Infinity;
    for (let round = 0; round < 3; round++) {
      const run = party();
      best = Math.min(best, cpuUs(run));
      bestBase = Math.min(bestBase, cpuUs(baseline));
    }
    figures.push({ label: kind.label, perMessageUs: best / messages, baselineUs: bestBase / messages, messages });
  }
  return figures;
}

/** Every text as a message from the members in turn, the object's clock advancing `stepMs` per round; what the room answers is delivered. */
function runOn(room: Room, ids: string[], texts: string[], t0: number, stepMs: number, label: string): number {
  let sends = 0;
  for (let i = 0; i < texts.length; i++) {
    const r = room.message(ids[i % ids.length]!, texts[i]!, t0 + Math.floor(i / ids.length) * stepMs);
    if (r.out.some((o) => o.message.t === "error")) throw new Error(`the bench's ${label} was refused: ${JSON.stringify(r.out[0]?.message)}`);
    sends += deliver(r.out, ids);
  }
  return sends;
}
