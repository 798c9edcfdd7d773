// The build's version as the Workers report it on /healthz: the git commit, marked when
// the tree has uncommitted changes.
import { execFileSync } from "node:child_process";
import { projectRoot } from "./project.ts";

export function buildVersion(): string {
  try {
    return execFileSync("git", ["describe", "--always", "--dirty", "--abbrev=12"], { cwd: projectRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unversioned"; // not a git checkout (e.g. an exported tarball)
  }
}
