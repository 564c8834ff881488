/**
 * The writes made to a collection since its built indexes were last brought
 * up to date, as two sorted lists: `gone`, the positions (among the
 * documents the indexes hold) of the documents deleted or replaced since,
 * and `added`, the positions (among the documents now) of those inserted or
 * written as a replacement since. The documents neither gone nor added are
 * the ones the indexes hold, in the same `_id` order, so the indexes keep
 * their key values and order and read only the added documents (see
 * SortedIndex.updated). A write costs a search and an insertion in these
 * lists; an insert in the middle of the `_id` order or a delete also moves
 * the added positions after it.
 */
export class IndexChanges {
  private goneList: number[] = [];
  private readonly addedList: number[] = [];

  /** Positions, among the documents the indexes hold, of those no longer there as they were: ascending. */
  get gone(): readonly number[] {
    return this.goneList;
  }

  /** Positions, among the documents now, of those the indexes do not hold: ascending. */
  get added(): readonly number[] {
    return this.addedList;
  }

  get empty(): boolean {
    return this.goneList.length === 0 && this.addedList.length === 0;
  }

  /** A document was inserted at `position`: documents from there on moved one up. */
  inserted(position: number): void {
    const added = this.addedList;
    const at = lowerBound(added, position);
    for (let i = at; i < added.length; i++) added[i] = (added[i] as number) + 1;
    added.splice(at, 0, position);
  }

  /** The document at `position` was replaced by a new version with the same `_id`. */
  replaced(position: number): void {
    const at = lowerBound(this.addedList, position);
    if (this.addedList[at] === position) return;
    const origin = this.origin(position, at);
    this.goneList.splice(lowerBound(this.goneList, origin), 0, origin);
    this.addedList.splice(at, 0, position);
  }

  /** The documents at `positions` (ascending) were deleted: the ones after each moved down. */
  removed(positions: readonly number[]): void {
    const added = this.addedList;
    const removedAdded = new Set<number>();
    const newlyGone: number[] = [];
    // Origins are found before anything changes: they are of positions as they were.
    for (const position of positions) {
      const at = lowerBound(added, position);
      if (added[at] === position) removedAdded.add(at);
      else newlyGone.push(this.origin(position, at));
    }
    if (newlyGone.length > 0) this.goneList = mergeSorted(this.goneList, newlyGone);
    let kept = 0;
    let before = 0;
    for (let i = 0; i < added.length; i++) {
      if (removedAdded.has(i)) continue;
      const position = added[i] as number;
      while (before < positions.length && (positions[before] as number) < position) before++;
      added[kept++] = position - before;
    }
    added.length = kept;
  }

  /**
   * Where each of the `size` documents the indexes hold is now, by its
   * position among them: a position among the documents now, or -1 for a
   * document gone.
   */
  mapping(size: number): Int32Array {
    const map = new Int32Array(size);
    const gone = this.goneList;
    const added = this.addedList;
    let g = 0;
    let a = 0;
    let now = 0;
    for (let old = 0; old < size; old++) {
      if (gone[g] === old) {
        map[old] = -1;
        g++;
        continue;
      }
      while (added[a] === now) {
        a++;
        now++;
      }
      map[old] = now++;
    }
    return map;
  }

  /**
   * The position, among the documents the indexes hold, of the document now
   * at `position`, which is not an added one; `before` added positions precede it.
   */
  private origin(position: number, before: number): number {
    // It is the rank-th document not gone; gone[i] - i does not decrease, so the gone ones before it are found by bisection.
    const rank = position - before;
    const gone = this.goneList;
    let lo = 0;
    let hi = gone.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((gone[mid] as number) - mid <= rank) lo = mid + 1;
      else hi = mid;
    }
    return rank + lo;
  }
}

/** The first index of ascending `values` whose value is at least `value`. */
function lowerBound(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && (a[i] as number) < (b[j] as number))) out.push(a[i++] as number);
    else out.push(b[j++] as number);
  }
  return out;
}
