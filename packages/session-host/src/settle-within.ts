/** Longest delay a Node timer takes; anything longer means "no limit". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Waits for `p` to settle, but at most `ms` milliseconds: true when it settled in time (fulfilled or
 * rejected), false when the time ran out. Nothing is cancelled; a late result is ignored.
 */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms > MAX_TIMER_MS) return p.then(settled, settled);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), false)));
  try {
    return await Promise.race([p.then(settled, settled), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function settled(): true {
  return true;
}
