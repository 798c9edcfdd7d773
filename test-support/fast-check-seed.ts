// A setup file of both Workers' test projects: every fast-check property runs from the
// run's seed (FC_SEED binding), and a failing test prints it, so any failure — also one
// an afterEach finds, where fast-check itself prints nothing — replays with FC_SEED=<n>.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach } from "vitest";

const seed = Number((env as { FC_SEED?: string }).FC_SEED ?? "0");
// A property that fails shrinks its counterexample, one request per step: over deep JSON
// that once ran for more than half an hour (a CI run that never ended). Two minutes per
// property, shrinking included, and running out is a failure, never a silent pass; the
// seed replays it for a longer look.
fc.configureGlobal({ seed, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true });

beforeEach((context) => {
  context.onTestFailed(() => console.error(`fast-check seed of this run: ${seed} (replay with FC_SEED=${seed})`));
});
