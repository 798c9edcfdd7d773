// `AccountStreams`: one Durable Object per account holding its stream leases, so the
// plan's concurrent-stream limit is enforced in one place (filled by the "Playback
// sessions" issue; declared now so its SQLite storage migration exists from the start).
import { DurableObject } from "cloudflare:workers";

export class AccountStreams extends DurableObject<ApiEnv> {}
