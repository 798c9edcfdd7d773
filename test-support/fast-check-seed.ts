// A setup file of both Workers' test projects: every fast-check property runs from the
// run's seed (FC_SEED binding), and a failing test prints it, so any failure — also one
// an afterEach finds, where fast-check itself prints nothing — replays with FC_SEED=<n>.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach } from "vitest";

const seed = Number((env as { FC_SEED?: string }).FC_SEED ?? "0");
fc.configureGlobal({ seed });

beforeEach((context) => {
  context.onTestFailed(() => console.error(`fast-check seed of this run: ${seed} (replay with FC_SEED=${seed})`));
});
