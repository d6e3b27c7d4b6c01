// A SecondHosts over a summary's host list, for callers of DetectStage.observe that do not
// pass the aggregator's view of every host (scripted tests, other embedders): per-host
// detectors then see only the listed hosts, and a host absent from the list counts as idle.
// Owned by detect2. Not used by the pipeline, which passes the aggregator's view.

import type { HostStats, SecondHosts } from '../aggregate/summary.js';

/** Ids handed out before the map is cleared (ids then restart with a new generation). */
const MAX_IDS = 65536;

export class ListedHosts implements SecondHosts {
  private list: readonly HostStats[] = [];
  private readonly ids = new Map<string, number>();
  private readonly idOf: number[] = [];
  private gen = 1;

  /** Point the view at this second's list (ids stay stable across seconds per address). */
  over(list: readonly HostStats[]): this {
    this.list = list;
    this.idOf.length = list.length;
    for (let i = 0; i < list.length; i++) {
      const addr = list[i]?.addr ?? '';
      let id = this.ids.get(addr);
      if (id === undefined) {
        if (this.ids.size >= MAX_IDS) {
          this.ids.clear();
          this.gen++;
        }
        id = this.ids.size;
        this.ids.set(addr, id);
      }
      this.idOf[i] = id;
    }
    return this;
  }

  get count(): number {
    return this.list.length;
  }
  id(i: number): number {
    return this.idOf[i] ?? -1;
  }
  generation(): number {
    return this.gen;
  }
  address(i: number): string {
    return this.list[i]?.addr ?? '';
  }
  txPackets(i: number): number {
    return this.list[i]?.tx.packets ?? 0;
  }
  txBytes(i: number): number {
    return this.list[i]?.tx.bytes ?? 0;
  }
  rxPackets(i: number): number {
    return this.list[i]?.rx.packets ?? 0;
  }
  rxBytes(i: number): number {
    return this.list[i]?.rx.bytes ?? 0;
  }
}
