// The rules a new password must pass: length in characters people see, no leaked favourites, not the email.
import { describe, expect, it } from "vitest";
import { commonPasswords } from "../../../lib/common-passwords.ts";
import { checkNewPassword } from "../../../lib/password-policy.ts";

const EMAIL = "Ada.Lovelace@example.com";

function refused(password: string, email = EMAIL): string {
  const verdict = checkNewPassword(password, email);
  if (verdict.ok) throw new Error(`expected ${JSON.stringify(password)} to be refused`);
  return verdict.reason;
}

describe("length", () => {
  it("refuses 7 characters and accepts 8", () => {
    expect(refused("xk4#Tq9")).toMatch(/at least 8/);
    expect(checkNewPassword("xk4#Tq9z", EMAIL)).toEqual({ ok: true });
  });

  it("accepts 128 characters and refuses 129", () => {
    const base = "correct horse battery staple ";
    const of = (n: number) => base.repeat(5).slice(0, n);
    expect(checkNewPassword(of(128), EMAIL)).toEqual({ ok: true });
    expect(refused(of(129))).toMatch(/at most 128/);
  });

  it("counts code points, so an emoji is one character", () => {
    // 7 emoji are 14 UTF-16 units but 7 characters to the person typing them.
    expect("🔑🔑🔑🔑🔑🔑🔑".length).toBe(14);
    expect(refused("🔑🔑🔑🔑🔑🔑🔑")).toMatch(/at least 8/);
    expect(checkNewPassword("🔑🔑🔑🔑🔑🔑🔑🎬", EMAIL)).toEqual({ ok: true });
    // 128 emoji are 256 units and still allowed; 129 are not.
    expect(checkNewPassword("🎬".repeat(128), EMAIL)).toEqual({ ok: true });
    expect(refused("🎬".repeat(129))).toMatch(/at most 128/);
  });
});

describe("common passwords", () => {
  it.each(["password", "PASSWORD", "Password1", "12345678", "qwertyuiop", "QwErTyUiOp", "iloveyou", "1q2w3e4r", "Passw0rd", "football", "letmein1"])(
    "refuses %s, whatever its case",
    (password) => {
      expect(refused(password)).toMatch(/too common/);
    },
  );

  it("keeps a list of a few hundred, all lower-case and long enough to matter", () => {
    expect(commonPasswords.size).toBeGreaterThanOrEqual(250);
    for (const entry of commonPasswords) {
      expect(entry).toBe(entry.toLowerCase());
      expect([...entry].length).toBeGreaterThanOrEqual(8);
    }
  });

  it("accepts a password that merely contains a common one", () => {
    expect(checkNewPassword("password-for-the-cinema-2031", EMAIL)).toEqual({ ok: true });
  });
});

describe("the email", () => {
  it.each(["Ada.Lovelace@example.com", "ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM"])("refuses the whole address: %s", (password) => {
    expect(refused(password)).toMatch(/email/);
  });

  it.each(["Ada.Lovelace", "ada.lovelace", "ADA.LOVELACE"])("refuses the local part: %s", (password) => {
    expect(refused(password)).toMatch(/email/);
  });

  it("takes the local part before the last @ and ignores surrounding spaces in the email", () => {
    expect(refused("quoted@local", "quoted@local@example.com")).toMatch(/email/);
    expect(refused("ada.lovelace", "  Ada.Lovelace@example.com ")).toMatch(/email/);
  });

  it("accepts passwords that only contain the local part", () => {
    expect(checkNewPassword("ada.lovelace-analytical-engine", EMAIL)).toEqual({ ok: true });
  });
});

describe("reasons", () => {
  it("are short sentences", () => {
    for (const password of ["short", "x".repeat(200), "password", EMAIL]) {
      const reason = refused(password);
      expect(reason).toMatch(/^[A-Z].*\.$/);
      expect(reason.length).toBeLessThan(80);
    }
  });
});
