#!/usr/bin/env python3
"""Speed reference for `npm run bench`: Llama inference speed of PyTorch or llama.cpp on CPU.

Purpose
    Time one engine, in one process, in its best ordinary CPU configuration on a fixed thread
    count, on the same token-id prompts ftgen's engine is timed on. Offline and deterministic
    (greedy decoding, no sampling); only the timings vary from run to run.

Usage
    python bench/llm_speed.py REQUEST.json      -> one JSON object on stdout, logs on stderr.

REQUEST (JSON file)
    engine          "torch" | "llama.cpp"
    model_dir       str      Hugging Face folder, float32 weights (engine "torch")
    gguf            str      GGUF file (engine "llama.cpp")
    prompts         [[int]]  token-id prompts, e.g. 8 x ~500 ids
    max_new_tokens  int      default 60
    threads         int      default 2
    repeats         int      default 2; every timing is the best (minimum seconds) of `repeats`
    flash_attn      bool     llama.cpp only, default false

Measurements (each warms up once with a short run before timing)
    prefill     all prompts' tokens / seconds.  torch: ONE batched forward of all prompts (left
                padded with an attention mask when lengths differ), KV cache on, logits_to_keep=1.
                llama.cpp: each prompt evaluated alone after reset(), n_batch=n_ubatch=512.
    generation  the same prompts, exactly max_new_tokens greedy tokens each (EOS never stops):
                seconds include the prompts' prefill; tokens_per_s = new tokens / seconds.
                torch: generate(do_sample=False, min_new_tokens=max_new_tokens) batched with left
                padding ("batched N"); note min_new_tokens masks EOS, so where EOS is the argmax
                the next-best token is taken (same cost).  llama.cpp: per prompt ("sequential"),
                reset + eval(prompt) + an argmax loop over llama_get_logits_ith (EOS allowed, never
                stops), i.e. exact greedy without the sampler's Python overhead.
    decode_b1   batch 1, KV cached: after prefilling the first prompt (untimed), max_new_tokens
                single-token greedy steps; only the steps are timed.

OUTPUT
    {"engine", "config": {...},
     "prefill":    {"tokens", "seconds", "tokens_per_s", "all_seconds", "cpu_share"},
     "generation": {"prompts", "new_tokens", "seconds", "tokens_per_s", "mode", "all_seconds",
                    "cpu_share"},
     "decode_b1":  {"tokens", "seconds", "tokens_per_s", "all_seconds", "cpu_share"},
     "peak_rss_mb" (ru_maxrss of this process, KB -> MB), "versions", "threads", "repeats",
     "machine": {"cpu", "cpu_count", "platform", "loadavg_1m_before", "loadavg_1m_after"}}
    cpu_share = process CPU seconds / (wall seconds * threads) of the best repeat; clearly below
    ~0.9 means other processes took the CPUs and the timing is not trustworthy.
"""
import json
import os
import platform
import resource
import sys
import time

from bench_request import read_request  # bench/, beside this script

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def log(*args):
    print("[llm_speed]", *args, file=sys.stderr, flush=True)


def clock():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), r.ru_utime + r.ru_stime


def best_of(repeats, threads, fn, setup=None):
    """Time fn() `repeats` times (setup(), untimed, before each); keep the fastest."""
    runs = []
    for _ in range(repeats):
        if setup:
            setup()
        w0, c0 = clock()
        fn()
        w1, c1 = clock()
        runs.append((w1 - w0, (c1 - c0) / ((w1 - w0) * threads)))
    best = min(runs)
    return {"seconds": best[0], "all_seconds": [round(w, 4) for w, _ in runs],
            "cpu_share": round(best[1], 3)}


def machine():
    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "platform": platform.platform()}


# ----------------------------------------------------------------------------- torch
def run_torch(req, prompts, n_new, threads, repeats):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(req["model_dir"], dtype=torch.float32).eval()
    pad = model.config.pad_token_id
    pad = 0 if pad is None else pad
    eos = model.config.eos_token_id

    def batch(ps):  # left padding + attention mask
        n = max(len(p) for p in ps)
        ids = torch.tensor([[pad] * (n - len(p)) + list(p) for p in ps], dtype=torch.long)
        mask = torch.tensor([[0] * (n - len(p)) + [1] * len(p) for p in ps], dtype=torch.long)
        return ids, mask

    ids, mask = batch(prompts)
    short_ids, short_mask = ids[:, -16:], mask[:, -16:]
    res, st = {}, {}
    with torch.inference_mode():
        def prefill(i, m):
            return model(input_ids=i, attention_mask=m, use_cache=True, logits_to_keep=1)
        prefill(short_ids, short_mask)  # warm-up
        res["prefill"] = {"tokens": int(mask.sum()),
                          **best_of(repeats, threads, lambda: prefill(ids, mask))}

        def gen(i, m, n):
            out = model.generate(input_ids=i, attention_mask=m, do_sample=False,
                                 max_new_tokens=n, min_new_tokens=n, pad_token_id=pad,
                                 eos_token_id=eos, num_beams=1)
            assert out.shape[1] == i.shape[1] + n, out.shape
        gen(short_ids, short_mask, 4)  # warm-up
        res["generation"] = {"prompts": len(prompts), "new_tokens": len(prompts) * n_new,
                             "mode": f"batched {len(prompts)}",
                             **best_of(repeats, threads, lambda: gen(ids, mask, n_new))}

        first = torch.tensor([prompts[0]], dtype=torch.long)

        def b1_prefill():
            out = model(input_ids=first, use_cache=True, logits_to_keep=1)
            st["past"], st["nxt"] = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)

        def b1_steps(n):
            for _ in range(n):
                out = model(input_ids=st["nxt"], past_key_values=st["past"], use_cache=True)
                st["past"], st["nxt"] = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        b1_prefill()
        b1_steps(4)  # warm-up
        res["decode_b1"] = {"tokens": n_new,
                            **best_of(repeats, threads, lambda: b1_steps(n_new), b1_prefill)}
    cfg = {"dtype": "float32", "attn_implementation": model.config._attn_implementation,
           "prefill": f"one batched forward of {len(prompts)} prompts, left padded, "
                      "logits_to_keep=1, use_cache=True",
           "generation": "generate(do_sample=False, min_new_tokens=max_new_tokens), batched",
           "decode_b1": "model forward with past_key_values (DynamicCache), argmax"}
    return res, cfg, {"torch": torch.__version__, "transformers": transformers.__version__}


# ----------------------------------------------------------------------------- llama.cpp
def run_llamacpp(req, prompts, n_new, threads, repeats):
    import numpy as np
    import llama_cpp
    from llama_cpp import Llama
    n_ctx = max(len(p) for p in prompts) + n_new + 8
    n_ctx = max(512, (n_ctx + 255) // 256 * 256)
    flash = bool(req.get("flash_attn", False))
    llm = Llama(model_path=req["gguf"], n_ctx=n_ctx, n_batch=512, n_ubatch=512,
                n_threads=threads, n_threads_batch=threads, logits_all=False,
                flash_attn=flash, seed=0, verbose=False)
    n_vocab = llm.n_vocab()

    def argmax_last():
        ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        return int(np.argmax(np.ctypeslib.as_array(ptr, shape=(n_vocab,))))

    def prefill(p):
        llm.reset()  # n_tokens = 0; eval() then drops the old KV cells
        llm.eval(p)

    def steps(n):
        for _ in range(n):
            llm.eval([argmax_last()])  # EOS is not special-cased: exactly n tokens

    def greedy(p, n):
        prefill(p)
        steps(n)

    res = {}
    prefill(prompts[0][:16])  # warm-up
    res["prefill"] = {"tokens": sum(len(p) for p in prompts),
                      **best_of(repeats, threads, lambda: [prefill(p) for p in prompts])}

    greedy(prompts[0][:16], 4)  # warm-up
    res["generation"] = {"prompts": len(prompts), "new_tokens": len(prompts) * n_new,
                         "mode": "sequential",
                         **best_of(repeats, threads, lambda: [greedy(p, n_new) for p in prompts])}

    greedy(prompts[0], 4)  # warm-up
    res["decode_b1"] = {"tokens": n_new, **best_of(repeats, threads, lambda: steps(n_new),
                                                   lambda: prefill(prompts[0]))}
    cfg = {"n_ctx": n_ctx, "n_batch": 512, "n_ubatch": 512, "n_threads": threads,
           "n_threads_batch": threads, "flash_attn": flash, "kv_type": "f16 (default)",
           "prefill": "per prompt: reset() + eval(prompt)",
           "generation": "per prompt: reset() + eval(prompt) + argmax/eval loop",
           "decode_b1": "eval([token]) + argmax of llama_get_logits_ith(ctx, -1)"}
    return res, cfg, {"llama_cpp": llama_cpp.__version__}


def main():
    req, real_stdout = read_request(__doc__)
    engine = req["engine"]
    load_before = os.getloadavg()
    prompts = [list(map(int, p)) for p in req["prompts"]]
    n_new = int(req.get("max_new_tokens", 60))
    threads = int(req.get("threads", 2))
    repeats = max(1, int(req.get("repeats", 2)))
    log(f"engine {engine}: {len(prompts)} prompts, {n_new} new tokens, {threads} threads")
    if engine == "torch":
        res, cfg, versions = run_torch(req, prompts, n_new, threads, repeats)
    elif engine == "llama.cpp":
        res, cfg, versions = run_llamacpp(req, prompts, n_new, threads, repeats)
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    for k, tok_key in (("prefill", "tokens"), ("generation", "new_tokens"), ("decode_b1", "tokens")):
        r = res[k]
        r["seconds"] = round(r["seconds"], 4)
        r["tokens_per_s"] = round(r[tok_key] / r["seconds"], 2)
        log(f"{k}: {r[tok_key]} tokens in {r['seconds']} s = {r['tokens_per_s']} tok/s "
            f"(repeats {r['all_seconds']}, cpu share {r['cpu_share']})")
    out = {"engine": engine, "config": cfg, **res,
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "versions": versions, "threads": threads, "repeats": repeats,
           "machine": dict(machine(), loadavg_1m_before=round(load_before[0], 2),
                           loadavg_1m_after=round(os.getloadavg()[0], 2))}
    json.dump(out, real_stdout)
    real_stdout.write("\n")
    real_stdout.flush()


if __name__ == "__main__":
    main()
