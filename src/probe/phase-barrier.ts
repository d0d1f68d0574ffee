// Lines up the follow-up calls of several nodes' probe pods, so that one phase (conn-check's
// "counters before") runs on every node before the next (the probes) starts anywhere. A node that
// never arrives (its probe pod failed) does not hold the others forever: a phase waits at most
// `waitMs` after its first arrival, and a node missing once is not waited for again.

export interface PhaseBarrier {
  /** Resolves when every expected node has arrived at `phase`, or the wait ran out. */
  arrive(phase: string, nodeName: string): Promise<void>;
  /** The node failed: no phase waits for it any more. */
  leave(nodeName: string): void;
  /** Nodes a phase stopped waiting for. */
  missing(): string[];
}

export function createPhaseBarrier(nodeNames: readonly string[], waitMs: (phase: string) => number): PhaseBarrier {
  const expected = new Set(nodeNames);
  const absent = new Set<string>();
  const phases = new Map<string, { arrived: Set<string>; done: Promise<void>; release: () => void; timer: ReturnType<typeof setTimeout> | null }>();
  const settleIfComplete = (p: { arrived: Set<string>; release: () => void }) => {
    if ([...expected].every((n) => p.arrived.has(n) || absent.has(n))) p.release();
  };
  return {
    arrive(phase, nodeName) {
      let p = phases.get(phase);
      if (!p) {
        let release!: () => void;
        const done = new Promise<void>((resolve) => (release = resolve));
        const entry = { arrived: new Set<string>(), done, release: () => {}, timer: null as ReturnType<typeof setTimeout> | null };
        entry.release = () => {
          if (entry.timer) clearTimeout(entry.timer);
          entry.timer = null;
          release();
        };
        entry.timer = setTimeout(() => {
          for (const n of expected) if (!entry.arrived.has(n)) absent.add(n);
          entry.release();
        }, waitMs(phase));
        p = entry;
        phases.set(phase, p);
      }
      p.arrived.add(nodeName);
      absent.delete(nodeName);
      settleIfComplete(p);
      return p.done;
    },
    leave(nodeName) {
      absent.add(nodeName);
      for (const p of phases.values()) settleIfComplete(p);
    },
    missing: () => [...absent],
  };
}
