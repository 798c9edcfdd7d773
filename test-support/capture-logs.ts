// Captures every console line a Worker writes during a test file, for the log tests of
// both Workers: `lines` fills from beforeAll; afterAll restores the console and quiets
// logging again (the tests raise LOG_LEVEL to debug on the env they pass).
import { afterAll, beforeAll, vi } from "vitest";
import { setLogLevel } from "../lib/log.ts";

export function captureLogs(): string[] {
  const lines: string[] = [];
  beforeAll(() => {
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
  });
  afterAll(() => {
    vi.restoreAllMocks();
    setLogLevel("error");
  });
  return lines;
}
