// The cron trigger's entry: every scheduled job of the api Worker is started from here.
import { log } from "../../../lib/log.ts";
import type { Bindings } from "../env.ts";
import { housekeeping } from "./housekeeping.ts";

export async function runScheduled(controller: ScheduledController, env: Bindings): Promise<void> {
  const now = new Date(controller.scheduledTime);
  const removed = await housekeeping(env, now);
  log("info", { event: "cron", cron: controller.cron, scheduledTime: now.toISOString(), removed });
}
