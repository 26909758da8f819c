import type { HostLoad } from "@threadmesh/mesh";

/** Share of its capacity a host fills; ties go to fewer running turns, then a livelier event loop. */
function lessLoaded(a: HostLoad, b: HostLoad): HostLoad {
  const fa = a.loadedThreads / Math.max(1, a.capacity);
  const fb = b.loadedThreads / Math.max(1, b.capacity);
  if (fa !== fb) return fa < fb ? a : b;
  if (a.activeTurns !== b.activeTurns) return a.activeTurns < b.activeTurns ? a : b;
  return a.eventLoopLagMs <= b.eventLoopLagMs ? a : b;
}

/**
 * Power of two choices: the less loaded of two hosts drawn at random. Random draws spread a burst of
 * placements made from the same (slightly old) heartbeats; comparing two avoids the worst host.
 */
export function pickHost(candidates: readonly HostLoad[], random: () => number = Math.random): HostLoad | undefined {
  const n = candidates.length;
  if (n <= 1) return candidates[0];
  const i = Math.floor(random() * n);
  let j = Math.floor(random() * (n - 1));
  if (j >= i) j++;
  return lessLoaded(candidates[i]!, candidates[j]!);
}
