/** The corpus readers on small fixtures written here: Brown, e-mail, WordNet, GCIDE, the Bibles, labelled sentences. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { untagBrown } from "../src/pretrain/sources/brown";
import { parseEmail, cleanSubject } from "../src/pretrain/sources/email";
import { parseSynsetLine } from "../src/pretrain/sources/wordnet";
import { parseGcide } from "../src/pretrain/sources/gcide";
import { parseKjv, parseWeb } from "../src/pretrain/sources/bible";
import { parseLabelledLines } from "../src/pretrain/sources/load-sources";
import { chunkText, sentences } from "../src/pretrain/sources/text";
import { lexiconPolarity } from "../src/pretrain/sources/lexicon";

test("Brown: tags dropped, quotes and punctuation joined", () => {
  const tagged = "\n\n\tThe/at jury/nn said/vbd ``/`` it/pps was/bedz fine/jj ''/'' ,/, and/cc left/vbd ./.\n\n\tIt/pps did/dod not/* ./.\n";
  assert.equal(untagBrown(tagged), "The jury said \"it was fine\", and left. It did not.");
  assert.throws(() => untagBrown("\tgood/jj bad\n", "cx01"), /cx01:1: token "bad" has no \/tag/);
});

test("e-mail: plain text only; quotes, signatures and list footers removed; subject tags removed", () => {
  const raw = [
    "From someone  Thu Aug 22 2002", "Subject: Re: [SAdev] The build is", "  broken again", "Content-Type: text/plain; charset=us-ascii", "",
    "I think the nightly build broke because of the new parser.", "> quoted text here that should go", "Bob wrote:", "Let us fix it tomorrow morning.",
    "see http://example.com/x", "-- ", "Alice signature",
  ].join("\n");
  const e = parseEmail(raw);
  assert.ok(e);
  assert.equal(e.subject, "The build is broken again");
  assert.equal(e.body, "I think the nightly build broke because of the new parser.\nLet us fix it tomorrow morning.");
  assert.equal(parseEmail("Subject: x\nContent-Type: text/html\n\n<p>hi</p>"), null);
  assert.equal(parseEmail("Subject: x\nContent-Transfer-Encoding: base64\n\naGk="), null);
  assert.equal(cleanSubject("Fwd: RE: [ILUG] [zzz] hello"), "hello");
});

test("WordNet: a data line with words, pointers, definition and examples; a bad line names file and line", () => {
  const line = '00001740 00 a 02 able 0 capable(a) 0 002 = 05207437 n 0000 ! 00002098 a 0101 | (usually followed by `to\') having the necessary means; "able to swim"; "she was able"  ';
  const s = parseSynsetLine(line);
  assert.equal(s.key, "a:00001740");
  assert.deepEqual(s.words, ["able", "capable"]);
  assert.deepEqual(s.pointers.map((p) => [p.symbol, p.target, p.sourceWord, p.targetWord]), [["=", "n:05207437", 0, 0], ["!", "a:00002098", 1, 1]]);
  assert.equal(s.definition, "(usually followed by `to') having the necessary means");
  assert.deepEqual(s.examples, ["able to swim", "she was able"]);
  assert.throws(() => parseSynsetLine("xx 00 n", "data.noun", 7), /data\.noun:7: too few fields/);
});

test("GCIDE: headword and senses kept; pronunciation, etymology, quotations and source tags dropped", () => {
  const text = [
    "Cave \\Cave\\ (k[=a]v), n. [F. cave, L. cavus hollow.]",
    "   1. A hollow place in the earth; a cavern; a {den}.",
    "      [1913 Webster]",
    "",
    "            The cave was dark and cold. --Shak.",
    "      [1913 Webster]",
    "",
    "   2. Any hollow place. --Bailey.",
    "      [1913 Webster]",
    "",
    "00-database-info \\x\\ not an entry at all here",
  ].join("\n");
  const e = parseGcide(text);
  assert.equal(e.length, 1);
  assert.equal(e[0].word, "Cave");
  assert.equal(e[0].text, "Cave: n. 1. A hollow place in the earth; a cavern; a den. 2. Any hollow place.");
});

test("Bibles: KJV and WEB output parsed into verses with the same references", () => {
  const kjv = parseKjv("\nGenesis 1\n\n  1 In the beginning God created the heaven and the earth.\n  2 And the earth was without form.\n\n1 Samuel 2\n\n  3 Talk no more.\n");
  assert.deepEqual(kjv, [
    { ref: "Genesis 1:1", text: "In the beginning God created the heaven and the earth." },
    { ref: "Genesis 1:2", text: "And the earth was without form." },
    { ref: "1 Samuel 2:3", text: "Talk no more." },
  ]);
  const web = parseWeb("Genesis 1:1: In the beginning, God created the heavens and the earth.\nI Samuel 2:3: “Don’t keep talking\nso exceedingly proudly.\n\n   A glossary that is not a verse.\n(engWEB2015eb)\nRevelation of John 22:21: The grace be with all. Amen.\n");
  assert.deepEqual(web.map((v) => v.ref), ["Genesis 1:1", "1 Samuel 2:3", "Revelation 22:21"]);
  assert.equal(web[1].text, "“Don’t keep talking so exceedingly proudly.");
});

test("labelled sentences: a bad line names the file and line", () => {
  assert.deepEqual(parseLabelledLines("Great phone.\t1\nBroke in a day.\t0\n", "f.txt", "s"), [
    { text: "Great phone.", positive: true, source: "s" }, { text: "Broke in a day.", positive: false, source: "s" },
  ]);
  assert.throws(() => parseLabelledLines("ok\t1\nno label here\n", "f.txt", "s"), /f\.txt:2: expected/);
});

test("text helpers: sentences, chunks, lexicon polarity", () => {
  assert.deepEqual(sentences("Mr. Smith went home. He slept! Did he? Yes."), ["Mr. Smith went home.", "He slept!", "Did he?", "Yes."]);
  const chunks = chunkText("aaa aaa.\n\nbbb bbb.\n\nccc ccc.", 18);
  assert.deepEqual(chunks, ["aaa aaa.\n\nbbb bbb.", "ccc ccc."]);
  const lex = { good: 3, great: 3, bad: -3, awful: -3 };
  assert.equal(lexiconPolarity("A good and great day.", lex), "positive");
  assert.equal(lexiconPolarity("An awful day.", lex), "negative");
  assert.equal(lexiconPolarity("Not a good day.", lex), null);
  assert.equal(lexiconPolarity("A good but bad day.", lex), null);
});
