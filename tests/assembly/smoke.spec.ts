import { abiVersion, heapBase } from "../../assembly/index";

describe("core ABI", () => {
  it("reports its ABI version", () => {
    expect(abiVersion()).toBe(1);
  });
  it("has a heap base above the static data", () => {
    expect(heapBase()).toBeGreaterThan(0);
  });
});
