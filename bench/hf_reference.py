#!/usr/bin/env python3
"""Independent Hugging Face reference for ftgen's Llama conformance tests.

Purpose
    Produce ground truth from the reference stack (transformers + tokenizers, float32 PyTorch
    on CPU) for a Llama model, so the TypeScript engine's tokenizer, logits and greedy decoding
    can be compared against it. Offline (HF_HUB_OFFLINE is forced) and deterministic.

Usage
    python bench/hf_reference.py REQUEST.json
    stdout: exactly one JSON object (nothing else); progress logs go to stderr.

REQUEST (JSON file)
    model_dir      str         Hugging Face folder (config.json, model.safetensors, tokenizer.json).
    gguf           str | null  path to a GGUF file; when given, the MODEL and the "transformers"
                               tokenizer are built by transformers' GGUF loader
                               (from_pretrained(dirname(gguf), gguf_file=basename(gguf)),
                               weights dequantized to float32); otherwise both come from model_dir.
    tokenizer_dir  str | null  folder whose tokenizer.json is also loaded with
                               tokenizers.Tokenizer.from_file (the "tokenizers" token lists).
    texts          [str]       texts to tokenize (add_special_tokens=False in both tokenizers).
    logit_prompts  [[int]]     token-id prompts; for each, the last-position logits.
    generate       {"prompts": [[int]], "max_new_tokens": int} | null
    threads        int         torch.set_num_threads (default 2).

OUTPUT (JSON on stdout)
    versions   {torch, transformers, tokenizers, gguf}
    tokens     {"transformers": [[int]], "tokenizers": [[int]] | null, "llama_cpp": [[int]] | null}
               llama_cpp: llama.cpp's tokenizer on the GGUF (vocab only), when llama-cpp-python is
               installed and a gguf is given; special tokens parsed, no BOS added.
    logits_b64 [str]   one per logit prompt: the float32 logits of the LAST position over the full
                       vocabulary, as base64 of little-endian float32 bytes (4 * vocab_size bytes).
                       Decode: numpy.frombuffer(base64.b64decode(s), dtype="<f4"), or in Node
                       new Float32Array(Buffer.from(s, "base64").buffer...) on a little-endian host.
                       Each prompt runs alone: batch 1, no padding, torch.inference_mode, float32.
    greedy     [[int]] per generate prompt (run alone): exactly max_new_tokens greedy argmax tokens.
                       EOS does not stop generation: this is a manual loop over the model's forward
                       with past_key_values (KV cache), argmax of float32 logits (ties -> lowest id).
    config     {vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
                num_key_value_heads, rope_theta, rms_norm_eps, tie_word_embeddings,
                bos_token_id, eos_token_id}
    seconds    {load, tokenize, logits, greedy}   wall times, informational only.
"""
import base64
import json
import os
import sys
import time

from bench_request import read_request  # bench/, beside this script

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from importlib.metadata import PackageNotFoundError, version  # noqa: E402

import numpy as np  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

CONFIG_KEYS = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
               "num_key_value_heads", "rope_theta", "rms_norm_eps", "tie_word_embeddings",
               "bos_token_id", "eos_token_id"]


def log(*args):
    print("[hf_reference]", *args, file=sys.stderr, flush=True)


def pkg_version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def load(req):
    """Return (model, transformers tokenizer); from the GGUF when req["gguf"] is set."""
    transformers.logging.set_verbosity_error()
    gguf = req.get("gguf")
    if gguf:
        d, name = os.path.dirname(os.path.abspath(gguf)), os.path.basename(gguf)
        log(f"loading model + tokenizer from GGUF {gguf}")
        tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32)
    else:
        log(f"loading model + tokenizer from {req['model_dir']}")
        tok = AutoTokenizer.from_pretrained(req["model_dir"])
        model = AutoModelForCausalLM.from_pretrained(req["model_dir"], dtype=torch.float32)
    model.eval()
    return model, tok


@torch.inference_mode()
def last_logits(model, ids):
    x = torch.tensor([ids], dtype=torch.long)
    out = model(input_ids=x, use_cache=False)
    return out.logits[0, -1].to(torch.float32).contiguous()


@torch.inference_mode()
def greedy(model, ids, n):
    """Exactly n greedy tokens, KV-cached, EOS ignored."""
    out = model(input_ids=torch.tensor([ids], dtype=torch.long), use_cache=True)
    past, logits = out.past_key_values, out.logits[0, -1]
    res = []
    for i in range(n):
        nxt = int(torch.argmax(logits.float()))  # first maximum on ties
        res.append(nxt)
        if i == n - 1:
            break
        out = model(input_ids=torch.tensor([[nxt]], dtype=torch.long),
                    past_key_values=past, use_cache=True)
        past, logits = out.past_key_values, out.logits[0, -1]
    return res


def b64_f32(t):
    return base64.b64encode(t.numpy().astype("<f4").tobytes()).decode("ascii")


def main():
    req, real_stdout = read_request(__doc__)
    threads = int(req.get("threads") or 2)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    secs = {}

    t0 = time.perf_counter()
    model, tok = load(req)
    secs["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    texts = req.get("texts") or []
    tok_tf = [list(tok(t, add_special_tokens=False)["input_ids"]) for t in texts]
    tok_hf = None
    if req.get("tokenizer_dir"):
        ht = tokenizers.Tokenizer.from_file(os.path.join(req["tokenizer_dir"], "tokenizer.json"))
        tok_hf = [ht.encode(t, add_special_tokens=False).ids for t in texts]
        for i, (a, b) in enumerate(zip(tok_tf, tok_hf)):
            if a != b:
                log(f"tokenizer mismatch on text {i}: {texts[i]!r}\n  transformers {a}\n  tokenizers   {b}")
    # llama.cpp's own tokenizer reads the GGUF directly (its "smollm" pre-tokenizer is code, not data):
    # the most independent reference for token ids, where llama-cpp-python is installed (the bench tier).
    tok_lc = None
    if req.get("gguf") and texts:
        try:
            from llama_cpp import Llama  # noqa: E402
            lc = Llama(model_path=req["gguf"], vocab_only=True, verbose=False)
            tok_lc = [lc.tokenize(t.encode("utf-8"), add_bos=False, special=True) for t in texts]
        except ImportError:
            log("llama_cpp not installed: no llama.cpp token ids")
    secs["tokenize"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    logits = []
    for i, ids in enumerate(req.get("logit_prompts") or []):
        row = last_logits(model, ids)
        log(f"logits {i}: {len(ids)} tokens, argmax {int(row.argmax())}, max {float(row.max()):.4f}")
        logits.append(b64_f32(row))
    secs["logits"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    gen = []
    g = req.get("generate")
    if g:
        for i, ids in enumerate(g["prompts"]):
            gen.append(greedy(model, ids, int(g["max_new_tokens"])))
            log(f"greedy {i}: {gen[-1]}")
    secs["greedy"] = time.perf_counter() - t0

    cfg = model.config
    out = {
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__, "gguf": pkg_version("gguf"),
                     "numpy": np.__version__},
        "tokens": {"transformers": tok_tf, "tokenizers": tok_hf, "llama_cpp": tok_lc},
        "logits_b64": logits,
        "logits_dtype": "float32-le",
        "greedy": gen,
        "config": {k: getattr(cfg, k, None) for k in CONFIG_KEYS},
        "threads": threads,
        "seconds": {k: round(v, 3) for k, v in secs.items()},
    }
    json.dump(out, real_stdout)
    real_stdout.write("\n")
    real_stdout.flush()


if __name__ == "__main__":
    main()
