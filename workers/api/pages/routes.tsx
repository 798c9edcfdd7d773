// The server-rendered pages of the web app.
import { Hono } from "hono";
import { log } from "../../../lib/log.ts";
import { listTitles, type TitleCard } from "../catalog/list-titles.ts";
import { catalogViewer } from "../catalog/viewer.ts";
import type { AppEnv } from "../env.ts";
import { HomePage } from "./home.tsx";

export const pageRoutes = new Hono<AppEnv>().get("/", async (c) => {
  // A catalog outage degrades the page to a notice; it never becomes an error page.
  let titles: TitleCard[] | null = null;
  try {
    titles = await listTitles(c.env.DB, await catalogViewer(c));
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: c.get("requestId"), dependency: "d1", message: String(err) });
  }
  return c.html(<HomePage titles={titles} />);
});
