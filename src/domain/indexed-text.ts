/** A vector produced by one embedding model; vectors of different models never mix. Empty when the model found nothing to embed. */
export interface EmbeddedVector {
  readonly modelKey: string;
  readonly values: Float32Array;
}

/** What a record is found by: the text for the keyword index and, when embedding worked, its vector. */
export interface IndexedText {
  readonly text: string;
  readonly vector: EmbeddedVector | null;
  /** Extra words for the keyword index only (e.g. the date in words), not embedded. */
  readonly keywords?: string;
}
