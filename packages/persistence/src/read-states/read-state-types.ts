/** A reader's mark on a thread: read up to the turn of ordinal `seenOrdinal`, or unread from the start. */
export interface ReadMark {
  mark: "read" | "unread";
  /** Ordinal of the last ended turn when the mark was set; -1 for none. */
  seenOrdinal: number;
  /** Changes with every mark. */
  revision: string;
}

export interface TurnRef {
  id: string;
  ordinal: number;
}

/** What a reader's read state of one thread is computed from: its mark and the thread's ended turns in order. */
export interface ReadStateBasis {
  mark: ReadMark | null;
  ended: TurnRef[];
}
