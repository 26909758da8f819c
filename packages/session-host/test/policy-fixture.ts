import assert from "node:assert/strict";

/** What a policy or workspace check refused: the -32602 it threw, as `{code, field, message}`. */
export interface Refusal {
  code: number;
  field: string;
  message: string;
}

/** Runs a check that must refuse and gives its refusal; fails the test if it passes. */
export function refusal(f: () => unknown): Refusal {
  try {
    f();
  } catch (e) {
    const err = e as { code: number; data: { field: string }; message: string };
    return { code: err.code, field: err.data.field, message: err.message };
  }
  assert.fail("expected a refusal");
}
