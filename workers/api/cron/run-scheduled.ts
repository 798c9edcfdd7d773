// The cron trigger's entry: every scheduled job of the api Worker is started from here.
import { log } from "../../../lib/log.ts";
import type { Bindings } from "../env.ts";

export async function runScheduled(controller: ScheduledController, env: Bindings): Promise<void> {
  void env;
  log("info", { event: "cron", cron: controller.cron, scheduledTime: new Date(controller.scheduledTime).toISOString() });
}
