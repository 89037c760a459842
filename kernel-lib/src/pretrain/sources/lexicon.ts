/**
 * Lexicon polarity of a sentence (AFINN-165 valences, as wink-sentiment ships them): the sum of the
 * valences of its lower-cased words. A sentence is labelled only when the sign is clear: a total of
 * at least `minScore` with no word of the other sign and no negation word; otherwise null.
 */
export const NEGATIONS: ReadonlySet<string> = new Set(["not", "no", "never", "none", "nor", "nobody", "nothing", "neither", "nowhere", "without", "cannot", "t", "hardly", "barely", "isn", "wasn", "aren", "weren", "don", "doesn", "didn", "won", "wouldn", "shouldn", "couldn", "can"]);

export function lexiconPolarity(sentence: string, lexicon: Readonly<Record<string, number>>, minScore = 3): "positive" | "negative" | null {
  const words = sentence.toLowerCase().match(/[a-z]+/g) ?? [];
  let sum = 0, pos = 0, neg = 0;
  for (const w of words) {
    if (NEGATIONS.has(w)) return null;
    const v = Object.prototype.hasOwnProperty.call(lexicon, w) ? lexicon[w] : 0;
    sum += v;
    if (v > 0) pos++;
    if (v < 0) neg++;
  }
  if (sum >= minScore && neg === 0) return "positive";
  if (sum <= -minScore && pos === 0) return "negative";
  return null;
}
