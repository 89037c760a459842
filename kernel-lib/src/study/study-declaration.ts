/**
 * One study (declarations/studies/<name>.json): what a research notebook plans, as data. Methods are
 * tokens a profile expands: "base", "ft", "fticl" (the profile's FTICL ks), "ft-full-in-domain"
 * (each task's FT model fully fine-tuned, scored in-domain, where the profile fine-tunes with LoRA
 * and asks for it). Shots: a list of ks, "paper" (each task's shot list, as the profile cuts it) or
 * "fticl" (0 and the FTICL ks). Train sizes: "main" (the profile's main size) or "profile" (every
 * size of the profile the data has).
 */
import { Fields } from "../util/declaration";

export type StudyMethodToken = "base" | "ft" | "fticl" | "ft-full-in-domain";

export interface StudyDeclaration {
  name: string;
  /** What the study is, in a line. */
  about: string;
  methods: readonly StudyMethodToken[];
  /** The tasks fine-tuned (default: every declared task). */
  tasks?: readonly string[];
  scopes: readonly ("in" | "out" | "cross")[];
  shots: readonly number[] | "paper" | "fticl";
  maps: readonly (0 | 1)[];
  trainSizes: "main" | "profile";
  file: string;
  source: "paper" | "user";
  order?: number;
}

export function parseStudyDeclaration(file: string, raw: unknown, source: "paper" | "user"): StudyDeclaration {
  const d = Fields.of(file, raw);
  d.only(["name", "order", "about", "tasks", "methods", "scopes", "shots", "maps", "trainSizes"]);
  const name = d.string("name", "the study's name");
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) d.fail("name", `"${name}": letters, digits, "-" and "_"`);
  const tokens = ["base", "ft", "fticl", "ft-full-in-domain"] as const;
  const methods = d.strings("methods", `methods (${tokens.join(", ")})`).map((m) => ((tokens as readonly string[]).includes(m) ? (m as StudyMethodToken) : d.fail("methods", `"${m}" is not one of ${tokens.join(", ")}`)));
  const scopes = d.strings("scopes", "scopes (in, out, cross)").map((s) => (["in", "out", "cross"].includes(s) ? (s as "in" | "out" | "cross") : d.fail("scopes", `"${s}" is not one of in, out, cross`)));
  const shots = d.has("shots") && typeof (raw as Record<string, unknown>).shots === "string" ? d.oneOf("shots", ["paper", "fticl"] as const) : d.integers("shots", 0);
  const maps = d.integers("maps", 0).map((m) => (m === 0 || m === 1 ? m : d.fail("maps", `map ${m}: the maps are 0 and 1`)));
  return {
    name, about: d.string("about", "what the study is"), ...(d.has("tasks") ? { tasks: d.strings("tasks", "the tasks fine-tuned") } : {}), methods, scopes, shots, maps, trainSizes: d.oneOf("trainSizes", ["main", "profile"] as const),
    file, source, ...(d.has("order") ? { order: d.integer("order", 1) } : {}),
  };
}
