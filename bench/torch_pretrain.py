#!/usr/bin/env python3
"""Pretrain ftgen's base-model architecture in PyTorch on a GPU: the recipe's twin for token budgets a CPU never reaches.

`npm run pretrain:gpu` (scripts/pretrain-gpu.ts) runs it for a recipe with a `torch` section and imports
the result (kernel-lib/src/pretrain/run/torch-import.ts); the shipped base model was trained this way
(experiments/pretrain/README.md, experiment 7). It needs PyTorch, which the study never does.

Input: a token stream from `tsx scripts/lib/pretrain-stream.ts` (the corpus packed as the recipe packs it,
BOS + ids + EOS per document in the seeded order) and a recipe file (data/base-model.config.json);
command-line options override the recipe's model and training settings.
Training: the recipe's AdamW (decay on all but norms), global-norm clipping, linear warmup then
cosine decay to minLrRatio x lr, loss on every position; windows of seqLen + 1 tokens at random
offsets of the stream (nanoGPT's sampler, since the budget spans many epochs); bf16 autocast on CUDA.
The step count is fixed after a short timing phase so the schedule ends inside --seconds; until then the
warmup is reckoned from the --tokens budget. --steps N fixes the count instead, at the same step, so a
time-fitted run is repeated (its run.json gives N): same seed, same windows, same schedule; bit for bit
on a CPU, while a GPU's backward kernels are not bitwise deterministic.
Output (--out): an ftgen model folder (config.json, model.safetensors in HF names, the tokenizer),
curve.jsonl, run.json with every setting, throughput and the held-out loss per token and per character
on the corpus' held-out cells. The folder is rewritten every --export-every seconds, with checkpoint.pt (weights, optimizer
moments, sampler state, step): a killed run started again with the same settings and --out goes on from
there, and on a CPU ends bit for bit where an uninterrupted run does (--stop-after N ends an invocation
after N steps, as a kill would).
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import Llama  # noqa: E402  (the same architecture as kernel-lib/src/model/llama.ts)

DTYPES = {torch.float32: ("F32", np.float32), torch.float16: ("F16", np.float16)}


def hf_name(name):
    """torch_ref parameter name -> the HF Llama name that kernel-lib's model folder reads."""
    if name.startswith("layers."):
        _, i, rest = name.split(".", 2)
        group = "mlp" if rest.split(".")[0] in ("gate_proj", "up_proj", "down_proj") else \
            "self_attn" if rest.split(".")[0] in ("q_proj", "k_proj", "v_proj", "o_proj") else None
        return f"model.layers.{i}.{group + '.' if group else ''}{rest}"
    return f"model.{name}"


def torch_name(hf):
    """The inverse of hf_name."""
    name = hf[len("model."):]
    return name.replace("self_attn.", "").replace("mlp.", "")


def save_safetensors(path, tensors, metadata, dtype=torch.float16):
    """tensors: {hf name: tensor}; written in the safetensors layout (8-byte header length, JSON, data)."""
    tag, np_dtype = DTYPES[dtype]
    header, blobs, offset = {"__metadata__": {"format": "pt", **metadata}}, [], 0
    for name in sorted(tensors):
        b = tensors[name].detach().float().cpu().numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": tag, "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_safetensors(path):
    """{hf name: float32 tensor} from a safetensors file of F32, F16 or BF16 tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        if h["dtype"] == "BF16":
            u = np.frombuffer(data[a:b], dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(data[a:b], dtype={"F32": np.float32, "F16": np.float16}[h["dtype"]]).astype(np.float32)
        out[name] = torch.from_numpy(arr.copy()).reshape(h["shape"])
    return out


def build_model(cfg):
    """A torch_ref Llama for an HF LlamaConfig dict (kernel-lib's supported subset)."""
    if cfg.get("num_key_value_heads", cfg["num_attention_heads"]) != cfg["num_attention_heads"]:
        raise SystemExit("torch_pretrain: grouped-query attention is not in torch_ref")
    if not cfg.get("tie_word_embeddings", True):
        raise SystemExit("torch_pretrain: only tied embeddings are in torch_ref")
    m = Llama(cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"],
              cfg["intermediate_size"], cfg["max_position_embeddings"])
    for mod in m.modules():  # the config's rms_norm_eps and rope_theta, where they differ from torch_ref's
        if hasattr(mod, "eps"):
            mod.eps = cfg.get("rms_norm_eps", 1e-5)
    if cfg.get("rope_theta", 10000) != 10000:
        raise SystemExit("torch_pretrain: rope_theta other than 10000 is not in torch_ref")
    return m


def load_model_folder(folder):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    m = build_model(cfg)
    state = {torch_name(k): v for k, v in load_safetensors(os.path.join(folder, "model.safetensors")).items()}
    missing, unexpected = m.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if k not in ("cos", "sin")]:
        raise SystemExit(f"{folder}/model.safetensors: missing {missing}, unexpected {unexpected}")
    return m, cfg


@torch.no_grad()
def heldout_loss(model, stream_dir, seq_len, device):
    """Token-mean loss overall and per kind, and nats per character, as pretrain/run/heldout.ts packs the cells."""
    info = json.load(open(os.path.join(stream_dir, "heldout.json")))
    ids = torch.from_numpy(np.fromfile(os.path.join(stream_dir, "heldout.u16"), dtype=np.uint16).astype(np.int64))
    model.eval()
    by_kind, total = {}, [0.0, 0, 0]
    for c in info["cells"]:
        s = ids[c["start"]:c["start"] + c["length"]]
        wins = [s[i:i + seq_len + 1] for i in range(0, len(s) - 1, seq_len) if len(s[i:i + seq_len + 1]) >= 2]
        loss_sum, n = 0.0, 0
        for w in wins:  # one window at a time: a cell's last window is shorter, and this is not a hot path
            w = w.to(device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(w[None, :-1])
            loss_sum += F.cross_entropy(logits.float()[0], w[1:], reduction="sum").item()
            n += len(w) - 1
        k = by_kind.setdefault(c["kind"], [0.0, 0, 0])
        for acc in (k, total):
            acc[0] += loss_sum
            acc[1] += n
            acc[2] += c["chars"]
    model.train()
    fmt = lambda a: {"loss": a[0] / a[1], "tokens": a[1], "chars": a[2], "loss_per_char": a[0] / a[2]}  # noqa: E731
    return {"all": fmt(total), "by_kind": {k: fmt(v) for k, v in by_kind.items()}}


def export(model, cfg, stream_dir, out, meta):
    os.makedirs(out, exist_ok=True)
    tensors = {hf_name(k): v for k, v in model.state_dict().items() if k not in ("cos", "sin")}
    save_safetensors(os.path.join(out, "model.safetensors"), tensors, {k: str(v) for k, v in meta.items()})
    json.dump({**cfg, "torch_dtype": "float16"}, open(os.path.join(out, "config.json"), "w"), indent=1)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(stream_dir, f), "rb") as src, open(os.path.join(out, f), "wb") as dst:
            dst.write(src.read())


def machine(device):
    """The machine as the model card records it (model-card.ts Machine)."""
    cpu_model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu_model)
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "cpuModel": cpu_model, "memGiB": round(mem), "platform": f"{sys.platform} {os.uname().machine}",
            "node": f"Python {sys.version.split()[0]}", **({"gpu": torch.cuda.get_device_name(0)} if device.type == "cuda" else {})}


def lr_at(step, lr, warmup, total, min_ratio):
    """The recipe's schedule (kernel-lib/src/train/schedule.ts): linear warmup, cosine to min_ratio x lr."""
    if step < warmup:
        return lr * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stream", required=True, help="folder from scripts/lib/pretrain-stream.ts")
    ap.add_argument("--recipe", help="a pretraining recipe (data/base-model.config.json)")
    ap.add_argument("--out", help="the model folder to write")
    ap.add_argument("--eval", metavar="FOLDER", help="only print FOLDER's held-out loss (a check that torch_ref reads ftgen's weights)")
    ap.add_argument("--seconds", type=float, default=300, help="training time budget")
    ap.add_argument("--tokens", type=float, default=1e9, help="training token budget (the smaller budget wins)")
    ap.add_argument("--batch", type=int, default=64, help="sequences per step")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--warmup-frac", type=float, default=0.03)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--ffn", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--export-every", type=float, default=90, help="seconds between exports (and checkpoints)")
    ap.add_argument("--stop-after", type=int, help="end this invocation after N steps, with a checkpoint (the next one resumes)")
    ap.add_argument("--steps", type=int, help="fix the step count (repeats a time-fitted run) instead of timing")
    ap.add_argument("--timing-steps", type=int, default=60, help="time steps 10 to this one, then fix the step count")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    t_start = time.time()
    if args.eval:
        model, cfg = load_model_folder(args.eval)
        seq_len = cfg["max_position_embeddings"]
        print(json.dumps(heldout_loss(model.to(args.device), args.stream, seq_len, torch.device(args.device))))
        return
    if not args.recipe or not args.out:
        ap.error("--recipe and --out are required to train")
    if args.steps is not None and args.steps <= args.timing_steps:
        ap.error(f"--steps must exceed --timing-steps ({args.timing_steps})")

    recipe = json.load(open(args.recipe))
    stream_info = json.load(open(os.path.join(args.stream, "stream.json")))
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "bos_token_id": stream_info["bos_token_id"],
           "eos_token_id": stream_info["eos_token_id"], "pad_token_id": 2, "hidden_act": "silu", "attention_bias": False,
           "mlp_bias": False, "attention_dropout": 0, "rope_scaling": None, "use_cache": True,
           # kernel-lib's LLAMA_DEFAULTS (model/config.ts) for what a recipe leaves out
           "vocab_size": 4096, "hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 4, "num_attention_heads": 4,
           "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000, "tie_word_embeddings": True,
           "initializer_range": 0.02, **recipe["model"]}
    for opt, key in (("hidden", "hidden_size"), ("layers", "num_hidden_layers"), ("heads", "num_attention_heads"), ("ffn", "intermediate_size")):
        if getattr(args, opt) is not None:
            cfg[key] = getattr(args, opt)
    if args.heads is not None or "num_key_value_heads" not in cfg:
        cfg["num_key_value_heads"] = cfg["num_attention_heads"]
    if cfg["vocab_size"] != stream_info["vocab_size"]:
        raise SystemExit(f"{args.recipe}: model.vocab_size {cfg['vocab_size']}, the stream's tokenizer has {stream_info['vocab_size']}")
    tc = recipe["train"]
    seed = tc["seed"] if args.seed is None else args.seed
    lr = tc["lr"] if args.lr is None else args.lr
    T, B = tc["seqLen"], args.batch
    device = torch.device(args.device)
    torch.manual_seed(seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    data = torch.from_numpy(np.fromfile(os.path.join(args.stream, "stream.u16"), dtype=np.uint16).astype(np.int64)).to(device)
    if len(data) != stream_info["tokens"]:
        raise SystemExit(f"{args.stream}/stream.u16: {len(data)} tokens, stream.json says {stream_info['tokens']}")
    model = build_model(cfg).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if "norm" not in n]
    no_decay = [p for n, p in model.named_parameters() if "norm" in n]
    fused = {"fused": True} if device.type == "cuda" else {}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": tc["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(tc["beta1"], tc["beta2"]), eps=tc["eps"], **fused)
    gen = torch.Generator(device=device).manual_seed(seed)
    offsets = torch.arange(T + 1, device=device)

    os.makedirs(args.out, exist_ok=True)
    target_steps = int(args.tokens // (B * T))
    total = target_steps  # fixed after the timing phase
    warmup = max(1, int(args.warmup_frac * total))
    # What decides the weights: a checkpoint resumes only a run with the same settings.
    settings = json.dumps({"cfg": cfg, "seed": seed, "lr": lr, "batch": B, "seqLen": T, "stream": stream_info, "train": tc,
                           "steps": args.steps, "tokens": args.tokens, "warmupFrac": args.warmup_frac, "timingSteps": args.timing_steps}, sort_keys=True)
    ckpt_file = os.path.join(args.out, "checkpoint.pt")
    step, elapsed, invocations = 0, 0.0, 1
    if os.path.exists(ckpt_file):
        ck = torch.load(ckpt_file, map_location=device, weights_only=False)
        if ck["settings"] != settings:
            raise SystemExit(f"{ckpt_file}: a checkpoint of a run with other settings; remove it or choose another --out")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"].cpu())
        step, total, warmup, elapsed, invocations = ck["step"], ck["total"], ck["warmup"], ck["elapsed"], ck["invocations"] + 1
        print(f"torch_pretrain: resuming from {ckpt_file} at step {step} of {total}", flush=True)
    curve_file = os.path.join(args.out, "curve.jsonl")
    kept = [l for l in open(curve_file)] if step and os.path.exists(curve_file) else []
    curve = open(curve_file, "w")
    curve.writelines(l for l in kept if json.loads(l)["step"] <= step)
    curve.flush()
    run = {"argv": sys.argv[1:], "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(device), "timingSteps": args.timing_steps, "provisionalWarmup": warmup, "cfg": cfg, "params": n_params, "seed": seed, "lr": lr, "batch": B, "seqLen": T, "stream": stream_info,
           "recipe": os.path.abspath(args.recipe), "torch": torch.__version__, "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
           "train": {k: tc[k] for k in ("weightDecay", "maxGradNorm", "beta1", "beta2", "eps", "minLrRatio")}}
    print(f"torch_pretrain: {n_params:,} params, {len(data):,} stream tokens, batch {B}x{T}, lr {lr}, on {run['device']}", flush=True)

    t0 = time.time() - elapsed  # training seconds go on counting across invocations
    last_export, first_step, loss_val = time.time(), step, float("nan")

    def checkpoint(complete):
        export(model, cfg, args.stream, args.out, {"ftgen_step": step, "ftgen_torch_pretrain": "complete" if complete else "partial"})
        if step > args.timing_steps and not complete:  # the step count is fixed by now
            torch.save({"settings": settings, "model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "step": step,
                        "total": total, "warmup": warmup, "elapsed": time.time() - t0, "invocations": invocations}, ckpt_file + ".tmp")
            os.replace(ckpt_file + ".tmp", ckpt_file)
        json.dump({**run, "steps": step, "totalSteps": total, "warmup": warmup, "invocations": invocations, "complete": False},
                  open(os.path.join(args.out, "run.json"), "w"), indent=1)

    while step < total:
        if args.stop_after is not None and step - first_step >= args.stop_after:
            checkpoint(False)
            print(f"torch_pretrain: stopped at step {step} of {total} (--stop-after); run again to go on", flush=True)
            return
        if step == 10:  # kernels are built and cached by now: time the steps from here
            t_timing = time.time()
        if step == args.timing_steps:  # the step count that fits the time budget, from the measured step time
            per_step = (time.time() - t_timing) / (step - 10)
            fitted = step + int((args.seconds - (time.time() - t0)) / per_step)
            total = max(step, args.steps if args.steps else min(target_steps, fitted))
            warmup = max(1, int(args.warmup_frac * total))
            print(f"torch_pretrain: {per_step * 1000:.1f} ms/step -> {total} steps, {total * B * T:,} tokens "
                  f"({total * B * T / len(data):.1f} epochs), warmup {warmup}", flush=True)
            if step >= total:
                break
        cur_lr = lr_at(step, lr, warmup, total, tc["minLrRatio"])
        for g in opt.param_groups:
            g["lr"] = cur_lr
        ix = torch.randint(0, len(data) - T - 1, (B,), device=device, generator=gen)
        win = data[ix[:, None] + offsets]  # (B, T + 1)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(win[:, :-1])  # (B, T, V)
        loss = F.cross_entropy(logits.float().reshape(-1, cfg["vocab_size"]), win[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), tc["maxGradNorm"])
        opt.step()
        step += 1
        if step % 25 == 0 or step == total:
            loss_val = loss.item()
            curve.write(json.dumps({"step": step, "loss": round(loss_val, 5), "lr": cur_lr, "gradNorm": round(gnorm.item(), 4),
                                    "tokens": step * B * T, "elapsed": round(time.time() - t0, 2)}) + "\n")
            curve.flush()
        if step % 500 == 0:
            print(f"step {step}/{total} loss {loss.item():.4f} lr {cur_lr:.2e} {step * B * T / (time.time() - t0):,.0f} tok/s", flush=True)
        if time.time() - last_export > args.export_every and step < total:
            checkpoint(False)
            last_export = time.time()
    seconds = time.time() - t0
    run.update({"steps": step, "totalSteps": total, "warmup": warmup, "tokens": step * B * T, "epochs": step * B * T / len(data),
                "trainSeconds": seconds, "tokensPerSecond": step * B * T / seconds, "finalLoss": loss_val, "invocations": invocations, "complete": True})
    checkpoint(True)
    if os.path.exists(ckpt_file):
        os.remove(ckpt_file)  # the finished folder holds the weights; moments are not needed any more
    run["heldout"] = heldout_loss(model, args.stream, T, device)
    run["wallSeconds"] = time.time() - t_start
    json.dump(run, open(os.path.join(args.out, "run.json"), "w"), indent=1)
    h = run["heldout"]["all"]
    print(f"torch_pretrain: done, {step} steps, {run['tokens']:,} tokens in {seconds:.0f} s; held-out {h['loss']:.3f} nats/token, "
          f"{h['loss_per_char']:.3f} nats/char", flush=True)


if __name__ == "__main__":
    main()
