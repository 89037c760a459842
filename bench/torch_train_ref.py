#!/usr/bin/env python3
"""Independent PyTorch + transformers + PEFT reference for ftgen's native fine-tuning.

Purpose
    Ground truth for ftgen's LoRA and full fine-tuning of a Llama model (LlamaForCausalLM,
    e.g. SmolLM2-135M): loss and gradients on a given batch, logits of a model carrying an
    adapter written by ftgen (and of its merged weights), and a training-speed/memory baseline
    that a PyTorch + PEFT user would get on the same CPU. The LoRA side is PEFT's own code
    (get_peft_model, set_peft_model_state_dict, get_peft_model_state_dict, PeftModel.from_pretrained),
    so tensor names, layouts and scaling are PEFT's. Float32 on CPU, offline (HF_HUB_OFFLINE is
    forced), torch.manual_seed(0); the grads and logits modes also use deterministic algorithms.

Usage
    python bench/torch_train_ref.py REQUEST.json
    stdout: exactly one JSON object (nothing else); progress logs go to stderr.

REQUEST (JSON file)
    model_dir     str     Hugging Face folder (config.json, model.safetensors) of a LlamaForCausalLM.
    threads       int     torch.set_num_threads (default 2).
    mode          str     "lora_grads" | "full_grads" | "adapter_logits" | "bench".
    batch         {"rows": R, "cols": T, "inputs": [R*T ints], "labels": [R*T ints]}
                          (grads modes) row-major token ids. Labels are ALREADY shifted:
                          labels[r,t] is the token to predict from position t; -1 = ignored.
                          Loss = mean cross-entropy over the labelled entries:
                          F.cross_entropy(logits.view(-1, V).float(), labels.view(-1), ignore_index=-1).
                          No attention mask (padding goes on the right, after the real tokens; with
                          causal attention it cannot influence them) and no labels= to the model
                          (the model's own shifting is not used).
    lora          {"r": int, "alpha": number, "target_modules": [str]}
                          (lora_grads, bench) LoraConfig(r, lora_alpha=alpha, lora_dropout=0.0,
                          target_modules, bias="none", task_type="CAUSAL_LM"); scaling = alpha / r.
                          Defaults (PEFT's own): r 8, alpha 8, target_modules ["q_proj", "v_proj"].
    adapter_init  str     (lora_grads) safetensors file with the LoRA weights to start from, under
                          PEFT's saved names, e.g.
                          base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight  (r, in)
                          base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight  (out, r)
                          Loaded with peft's set_peft_model_state_dict; its key set must equal the
                          model's LoRA key set exactly (else exit 1 naming the difference).
    params        [str]   (full_grads) HF parameter names whose gradients to write, e.g.
                          "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                          "model.norm.weight"; default: every parameter (tied ones once).
                          "lm_head.weight" is accepted on a tied model: same tensor, same gradient.
    out_file      str     (grads modes) where to write the gradients (safetensors, float32).
    adapter_dir   str     (adapter_logits) folder with adapter_config.json + adapter_model.safetensors,
                          loaded by PeftModel.from_pretrained onto the base model from model_dir.
    merged_dir    str | null  (adapter_logits) HF folder of merged weights, loaded as a plain model.
    prompts       [[int]] (adapter_logits) token-id prompts.
    rows, cols    int     (bench) batch shape (default 4 x 256). Tokens: torch.Generator seeded 0,
                          randint(0, vocab, (rows, cols + 1)); inputs = [:, :cols],
                          labels = [:, 1:] with the first cols // 2 positions of each row set to -1.
    steps         int     (bench) timed steps per kind (default 3).
    warmup        int     (bench) untimed steps first (default 1).
    kinds         [str]   (bench) subset of ["lora", "full"], run in that order (default both).

    lora_grads:   PeftModel = get_peft_model(model, LoraConfig(...)); adapter_init loaded; model.train();
                  loss on the batch; backward; every LoRA gradient written to out_file under the same
                  PEFT saved names as adapter_init (mapped by get_peft_model_state_dict).
    full_grads:   the plain model, every parameter trainable; model.train(); loss; backward; the
                  gradients of `params` written to out_file under HF names, in HF layouts
                  (nn.Linear weight (out, in), embedding (vocab, hidden)). The tied embedding's
                  gradient is the sum of its input-embedding and LM-head uses (autograd's own sum).
    Both grads modes load with attn_implementation="eager" (the plainest attention).
    adapter_logits: eager attention; model.eval(); each prompt alone (batch 1, no padding,
                  torch.inference_mode): last-position logits, with the adapter, then (merged_dir)
                  from the merged model.
    bench:        default attention (what a PyTorch user gets: sdpa). model.train(), dropout 0.
                  (a) "lora": get_peft_model, AdamW(lr 1e-4, PyTorch defaults otherwise) on the LoRA
                  parameters; (b) "full": a freshly loaded plain model, AdamW(lr 1e-4) on all
                  parameters. A step = forward, loss (as above), backward, optimizer.step(),
                  zero_grad(). Peak RSS is cumulative over the process, so "lora" runs first.

OUTPUT (JSON on stdout)
    versions          {torch, transformers, peft, safetensors, numpy}
    mode              str
    attn_implementation  str   the attention the model actually ran ("eager", "sdpa").
    threads           int
    loss              float | null   (grads modes) the mean cross-entropy.
    target_tokens     int | null     (grads modes) number of labels != -1.
    out_file          str | null     (grads modes) the safetensors file written.
    out_tensors       [str] | null   (grads modes) the tensor names in out_file, sorted.
    lora_scaling      float | null   (lora_grads) alpha / r as PEFT applies it.
    logits_b64        [str] | null   (adapter_logits) one per prompt: float32 logits of the LAST
                                     position over the vocabulary, base64 of little-endian float32
                                     (numpy.frombuffer(base64.b64decode(s), dtype="<f4")).
    merged_logits_b64 [str] | null   (adapter_logits) the same from merged_dir, or null.
    bench             {...} | null   (bench) {"rows", "cols", "tokens_per_step", "steps", "warmup",
                                     "attn_implementation", "rss_mb_after_load",
                                     "lora": {"seconds_per_step" (median), "tokens_per_s",
                                              "step_seconds" [all timed], "losses" [every step],
                                              "trainable_params", "peak_rss_mb", "kind_peak_rss_mb",
                                              "r", "alpha",
                                              "target_modules"},
                                     "full": {"seconds_per_step", "tokens_per_s", "step_seconds",
                                              "losses", "trainable_params", "peak_rss_mb",
                                              "kind_peak_rss_mb"}}
                                     peak_rss_mb = getrusage(RUSAGE_SELF).ru_maxrss / 1024 after that
                                     kind, as a running maximum (cumulative: the process peak so far).
                                     kind_peak_rss_mb: that kind's own peak (VmHWM, reset through
                                     /proc/self/clear_refs before its model loads), null where
                                     Linux does not allow the reset.
    seconds           {load, ...}    wall times, informational only.
"""
import base64
import gc
import json
import os
import resource
import statistics
import sys
import time

from bench_request import read_request  # bench/, beside this script

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import peft  # noqa: E402
import safetensors  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from peft import (LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict,  # noqa: E402
                  set_peft_model_state_dict)
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402


def log(*args):
    print("[torch_train_ref]", *args, file=sys.stderr, flush=True)


def fail(msg):
    log("error:", msg)
    sys.exit(1)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def reset_peak():
    """Linux: writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def vm_hwm_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def load_model(model_dir, attn):
    """Float32 LlamaForCausalLM; attn None = transformers' default (sdpa)."""
    kw = {"dtype": torch.float32}
    if attn:
        kw["attn_implementation"] = attn
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kw)
    return model


def attn_of(model):
    return getattr(model.config, "_attn_implementation", None)


def lora_config(spec):
    spec = spec or {}
    r = int(spec.get("r", 8))
    alpha = spec.get("alpha", 8)
    targets = spec.get("target_modules") or ["q_proj", "v_proj"]
    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=list(targets),
                     bias="none", task_type="CAUSAL_LM")
    return cfg, {"r": r, "alpha": alpha, "target_modules": list(targets)}


def read_batch(b):
    rows, cols = int(b["rows"]), int(b["cols"])
    inputs, labels = b["inputs"], b["labels"]
    if len(inputs) != rows * cols or len(labels) != rows * cols:
        fail(f"batch: inputs/labels must hold rows*cols = {rows * cols} ints "
             f"(got {len(inputs)}, {len(labels)})")
    x = torch.tensor(inputs, dtype=torch.long).view(rows, cols)
    y = torch.tensor(labels, dtype=torch.long).view(rows, cols)
    return x, y


def loss_of(model, x, y):
    """Mean CE of logits[r,t] vs labels[r,t] (already shifted), -1 ignored; no attention mask."""
    logits = model(input_ids=x, use_cache=False).logits
    v = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, v).float(), y.reshape(-1), ignore_index=-1)


def check_labels(y, vocab):
    bad = (y != -1) & ((y < 0) | (y >= vocab))
    if bool(bad.any()):
        fail(f"labels must be -1 or in [0, {vocab})")
    n = int((y != -1).sum())
    if n == 0:
        fail("batch has no labelled position (every label is -1)")
    return n


def save_grads(grads, path):
    """grads: {name: tensor}; float32, contiguous, unshared (safetensors refuses shared storage)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_file({k: v.detach().to(torch.float32).contiguous().clone() for k, v in grads.items()}, path)


def run_lora_grads(req, res, secs):
    t0 = time.perf_counter()
    model = load_model(req["model_dir"], "eager")
    cfg, _ = lora_config(req.get("lora"))
    pm = get_peft_model(model, cfg)
    secs["load"] = time.perf_counter() - t0

    if not req.get("adapter_init"):
        fail("lora_grads needs adapter_init (a safetensors file of LoRA A/B weights, PEFT names)")
    init = load_file(req["adapter_init"])
    want = set(get_peft_model_state_dict(pm).keys())
    have = set(init.keys())
    if want != have:
        fail(f"adapter_init keys differ from the model's LoRA keys: missing {sorted(want - have)[:8]}"
             f" ({len(want - have)}), unexpected {sorted(have - want)[:8]} ({len(have - want)})")
    set_peft_model_state_dict(pm, init)
    loaded = get_peft_model_state_dict(pm)
    for k, v in init.items():  # shape/value check: the load really landed
        if loaded[k].shape != v.shape or not torch.equal(loaded[k].float(), v.float()):
            fail(f"adapter_init tensor {k} did not load as given (shape {tuple(v.shape)} vs "
                 f"{tuple(loaded[k].shape)})")

    x, y = read_batch(req["batch"])
    res["target_tokens"] = check_labels(y, pm.config.vocab_size)
    pm.train()
    t0 = time.perf_counter()
    loss = loss_of(pm, x, y)
    loss.backward()
    secs["forward_backward"] = time.perf_counter() - t0

    named = {n: p.grad if p.grad is not None else torch.zeros_like(p)
             for n, p in pm.named_parameters() if p.requires_grad}
    grads = get_peft_model_state_dict(pm, state_dict=named)
    if set(grads.keys()) != want:
        fail(f"gradient names do not map onto the adapter names: {sorted(set(grads) ^ want)[:8]}")
    save_grads(grads, req["out_file"])
    scalings = {float(v) for m in pm.modules() if hasattr(m, "scaling") and isinstance(m.scaling, dict)
                for v in m.scaling.values()}
    res.update(loss=loss.item(), out_file=req["out_file"], out_tensors=sorted(grads.keys()),
               lora_scaling=scalings.pop() if len(scalings) == 1 else sorted(scalings),
               attn_implementation=attn_of(model))
    log(f"lora_grads: loss {loss.item():.6f} over {res['target_tokens']} tokens, "
        f"{len(grads)} tensors -> {req['out_file']}")


def run_full_grads(req, res, secs):
    t0 = time.perf_counter()
    model = load_model(req["model_dir"], "eager")
    secs["load"] = time.perf_counter() - t0
    for p in model.parameters():
        p.requires_grad_(True)
    x, y = read_batch(req["batch"])
    res["target_tokens"] = check_labels(y, model.config.vocab_size)
    model.train()
    t0 = time.perf_counter()
    loss = loss_of(model, x, y)
    loss.backward()
    secs["forward_backward"] = time.perf_counter() - t0

    every = dict(model.named_parameters(remove_duplicate=False))  # lm_head.weight too when tied
    names = req.get("params") or [n for n, _ in model.named_parameters()]
    unknown = [n for n in names if n not in every]
    if unknown:
        fail(f"unknown parameter names: {unknown[:8]} (known e.g. {list(every)[:4]})")
    grads = {n: every[n].grad if every[n].grad is not None else torch.zeros_like(every[n])
             for n in names}
    save_grads(grads, req["out_file"])
    res.update(loss=loss.item(), out_file=req["out_file"], out_tensors=sorted(grads.keys()),
               attn_implementation=attn_of(model))
    log(f"full_grads: loss {loss.item():.6f} over {res['target_tokens']} tokens, "
        f"{len(grads)} tensors -> {req['out_file']}")


@torch.inference_mode()
def last_logits(model, ids):
    out = model(input_ids=torch.tensor([ids], dtype=torch.long), use_cache=False)
    return out.logits[0, -1].to(torch.float32).contiguous()


def b64_f32(t):
    return base64.b64encode(t.numpy().astype("<f4").tobytes()).decode("ascii")


def run_adapter_logits(req, res, secs):
    t0 = time.perf_counter()
    model = load_model(req["model_dir"], "eager")
    pm = PeftModel.from_pretrained(model, req["adapter_dir"])
    pm.eval()
    secs["load"] = time.perf_counter() - t0
    prompts = req.get("prompts") or []
    t0 = time.perf_counter()
    res["logits_b64"] = []
    for i, ids in enumerate(prompts):
        row = last_logits(pm, ids)
        log(f"adapter logits {i}: {len(ids)} tokens, argmax {int(row.argmax())}, max {float(row.max()):.4f}")
        res["logits_b64"].append(b64_f32(row))
    secs["logits"] = time.perf_counter() - t0
    res["attn_implementation"] = attn_of(model)
    res["adapter_config"] = pm.peft_config["default"].to_dict()
    for k, v in list(res["adapter_config"].items()):  # sets (target_modules) are not JSON
        if isinstance(v, set):
            res["adapter_config"][k] = sorted(v)
    del pm, model
    gc.collect()
    if req.get("merged_dir"):
        t0 = time.perf_counter()
        merged = load_model(req["merged_dir"], "eager")
        merged.eval()
        secs["load_merged"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        res["merged_logits_b64"] = []
        for i, ids in enumerate(prompts):
            row = last_logits(merged, ids)
            log(f"merged logits {i}: argmax {int(row.argmax())}, max {float(row.max()):.4f}")
            res["merged_logits_b64"].append(b64_f32(row))
        secs["merged_logits"] = time.perf_counter() - t0


def time_steps(model, params, x, y, warmup, steps):
    opt = torch.optim.AdamW(params, lr=1e-4)
    times, losses = [], []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        loss = loss_of(model, x, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        dt = time.perf_counter() - t0
        losses.append(loss.item())
        if i >= warmup:
            times.append(dt)
        log(f"  step {i}{' (warmup)' if i < warmup else ''}: {dt:.3f}s loss {losses[-1]:.4f}")
    del opt
    return times, losses


def run_bench(req, res, secs):
    rows, cols = int(req.get("rows") or 4), int(req.get("cols") or 256)
    steps = int(req.get("steps") if req.get("steps") is not None else 3)
    warmup = int(req.get("warmup") if req.get("warmup") is not None else 1)
    kinds = req.get("kinds") or ["lora", "full"]
    if not set(kinds) <= {"lora", "full"} or steps < 1:
        fail("bench: kinds must be a subset of ['lora', 'full'] and steps >= 1")
    kinds = [k for k in ["lora", "full"] if k in kinds]
    tps = rows * cols
    peak = rss_mb()  # running max: resetting VmHWM also resets what getrusage reports later
    out = {"rows": rows, "cols": cols, "tokens_per_step": tps, "steps": steps, "warmup": warmup}

    for n, kind in enumerate(kinds):
        gc.collect()
        own_peak = reset_peak()
        t0 = time.perf_counter()
        model = load_model(req["model_dir"], None)
        secs[f"load_{kind}"] = time.perf_counter() - t0
        if n == 0:
            peak = max(peak, rss_mb())
            out["rss_mb_after_load"] = round(rss_mb(), 1)
            out["attn_implementation"] = attn_of(model)
            res["attn_implementation"] = attn_of(model)
            g = torch.Generator().manual_seed(0)
            ids = torch.randint(0, model.config.vocab_size, (rows, cols + 1), generator=g)
            x, y = ids[:, :cols].contiguous(), ids[:, 1:].clone()
            y[:, : cols // 2] = -1
        if kind == "lora":
            cfg, spec = lora_config(req.get("lora"))
            torch.manual_seed(0)
            model = get_peft_model(model, cfg)
            params = [p for p in model.parameters() if p.requires_grad]
            extra = spec
        else:
            for p in model.parameters():
                p.requires_grad_(True)
            params = list(model.parameters())
            extra = {}
        model.train()
        ntrain = sum(p.numel() for p in params)
        log(f"bench {kind}: {rows}x{cols}, {ntrain} trainable parameters, attn {attn_of(model)}")
        t0 = time.perf_counter()
        times, losses = time_steps(model, params, x, y, warmup, steps)
        secs[f"steps_{kind}"] = time.perf_counter() - t0
        med = statistics.median(times)
        peak = max(peak, rss_mb())
        out[kind] = {"seconds_per_step": round(med, 4), "tokens_per_s": round(tps / med, 1),
                     "step_seconds": [round(t, 4) for t in times], "losses": losses,
                     "trainable_params": ntrain, "peak_rss_mb": round(peak, 1),
                     "kind_peak_rss_mb": round(vm_hwm_mb(), 1) if own_peak and vm_hwm_mb() else None,
                     **extra}
        log(f"bench {kind}: {med:.3f} s/step, {tps / med:.1f} tokens/s, peak RSS {peak:.0f} MB")
        del model, params
        gc.collect()
    res["bench"] = out


def main():
    req, real_stdout = read_request(__doc__)
    threads = int(req.get("threads") or 2)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    mode = req.get("mode")
    runs = {"lora_grads": run_lora_grads, "full_grads": run_full_grads,
            "adapter_logits": run_adapter_logits, "bench": run_bench}
    if mode not in runs:
        fail(f"mode must be one of {sorted(runs)} (got {mode!r})")
    if mode != "bench":
        torch.use_deterministic_algorithms(True)
    res = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                        "peft": peft.__version__, "safetensors": safetensors.__version__,
                        "numpy": np.__version__},
           "mode": mode, "attn_implementation": None, "threads": threads,
           "loss": None, "target_tokens": None, "out_file": None, "out_tensors": None,
           "lora_scaling": None, "logits_b64": None, "merged_logits_b64": None, "bench": None}
    secs = {}
    t0 = time.perf_counter()
    runs[mode](req, res, secs)
    secs["total"] = time.perf_counter() - t0
    res["seconds"] = {k: round(v, 3) for k, v in secs.items()}
    json.dump(res, real_stdout)
    real_stdout.write("\n")
    real_stdout.flush()


if __name__ == "__main__":
    main()
