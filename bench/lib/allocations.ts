/** A sampling heap profile (the inspector's HeapProfiler.stopSampling), as far as it is read here. */
export interface SamplingHeapProfile {
  head: AllocationNode;
}
interface AllocationNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocationNode[];
}

const KB = (bytes: number, per: number) => `${(bytes / per / 1024).toFixed(1)} KB`;

/**
 * What was allocated per unit of work (`per`: referrals, say), in all and by the function that
 * allocated it (self), and by the project's own functions with all they called (inclusive).
 */
export function allocationSites(profile: SamplingHeapProfile, per: number, top = 25): string {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let all = 0;
  const walk = (node: AllocationNode, above: Set<string>) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(src|bench|node_modules)\//, '$1/')}:${lineNumber + 1}`;
    self.set(site, (self.get(site) ?? 0) + node.selfSize);
    all += node.selfSize;
    const path = above.has(site) ? above : new Set([...above, site]);
    for (const s of path)
      if (/^\S+ (src|bench)\//.test(s)) inclusive.set(s, (inclusive.get(s) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, path);
  };
  walk(profile.head, new Set());
  const list = (sizes: Map<string, number>) =>
    [...sizes]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([site, bytes]) => `  ${KB(bytes, per).padStart(9)}  ${site}`);
  return [
    `allocated: ${KB(all, per)} per unit`,
    'by the function that allocated (self):',
    ...list(self),
    "by the project's functions, with what they called (inclusive):",
    ...list(inclusive),
  ].join('\n');
}
