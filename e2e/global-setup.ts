// Starts the whole platform with `npm run dev`'s own script on a free port, against a
// fresh local state, for every browser test file; always tears it down.
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startPlatform } from "../tools/platform.ts";
import { projectRoot } from "../tools/project.ts";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const platform = await startPlatform({
    stateDir: path.join(projectRoot, ".wrangler/e2e-state"),
    logFile: path.join(projectRoot, ".wrangler/e2e-dev.log"),
  });
  project.provide("baseUrl", platform.url);
  return platform.stop;
}
