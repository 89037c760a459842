#!/usr/bin/python3
"""PyTorch reference of ftgen's Llama-style decoder, for `npm run bench` only.

Same architecture as kernel-lib/src/model/llama.ts: token embedding, RMSNorm, rotary position
embeddings (HF Llama rotate_half layout), causal multi-head attention, SwiGLU MLP, tied LM head.
It measures training tokens/s (AdamW, forward + backward, cross-entropy over all positions) and
greedy decoding tokens/s with and without a KV cache, and prints one JSON object.
Never needed to run the study: the benchmark compares our tfjs numbers against it.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):  # (B, T, C)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, max_pos, theta=10000.0):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
    t = torch.arange(max_pos).float()
    freqs = torch.outer(t, inv_freq)  # (T, hd/2)
    emb = torch.cat([freqs, freqs], dim=-1)  # (T, hd)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


class Block(nn.Module):
    def __init__(self, d, n_head, ffn):
        super().__init__()
        self.n_head, self.hd = n_head, d // n_head
        self.input_layernorm = RMSNorm(d)
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d)
        self.gate_proj = nn.Linear(d, ffn, bias=False)
        self.up_proj = nn.Linear(d, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin, cache=None):
        B, T, C = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.n_head, self.hd).transpose(1, 2)  # (B, H, T, hd)
        k = self.k_proj(h).view(B, T, self.n_head, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.n_head, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        S = k.shape[2]
        if cache is None and hasattr(F, "scaled_dot_product_attention"):
            # torch >= 2.0: the fused (flash) kernel, the same causal softmax(q k^T / sqrt(hd)) v
            # (rotary tables are float32, so under bf16 autocast q and k come out float32 and v bf16)
            y = F.scaled_dot_product_attention(q.to(v.dtype), k.to(v.dtype), v, is_causal=True)  # (B, H, T, hd)
        else:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)  # (B, H, T, S)
            mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(diagonal=S - T)
            y = att.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        y = y.transpose(1, 2).reshape(B, T, C)
        x = x + self.o_proj(y)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, vocab, d, n_layer, n_head, ffn, ctx):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([Block(d, n_head, ffn) for _ in range(n_layer)])
        self.norm = RMSNorm(d)
        cos, sin = rope_tables(d // n_head, ctx + 64)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        # HF Llama's initializer_range: every matrix N(0, 0.02), norms at 1 (as kernel-lib's init).
        for mod in self.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                nn.init.normal_(mod.weight, mean=0.0, std=0.02)

    def forward(self, ids, start=0, caches=None):  # ids (B, T)
        T = ids.shape[1]
        x = self.embed_tokens(ids)  # (B, T, C)
        cos, sin = self.cos[start:start + T], self.sin[start:start + T]
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i])
        return self.norm(x) @ self.embed_tokens.weight.t()  # (B, T, V), tied head


def ffn_size(d):
    return 4 * d  # kernel-lib's default for these configs


def bench_train(cfg, steps, warmup):
    torch.manual_seed(0)
    m = Llama(cfg["vocab"], cfg["d"], cfg["layers"], cfg["heads"], ffn_size(cfg["d"]), cfg["ctx"])
    opt = torch.optim.AdamW(m.parameters(), lr=3e-4, weight_decay=0.1)
    B, T = cfg["batch"], cfg["ctx"]
    ids = torch.randint(0, cfg["vocab"], (B, T + 1))
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        logits = m(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, cfg["vocab"]), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    dt = time.perf_counter() - t0
    return {"train_tokens_per_s": B * T * steps / dt, "train_step_s": dt / steps, "final_loss": float(loss)}


@torch.no_grad()
def bench_decode(cfg, prompt_len=200, new_tokens=60):
    torch.manual_seed(0)
    m = Llama(cfg["vocab"], cfg["d"], cfg["layers"], cfg["heads"], ffn_size(cfg["d"]), cfg["ctx"]).eval()
    prompt = torch.randint(0, cfg["vocab"], (1, prompt_len))
    out = {}
    # with a KV cache: one prefill, then one token at a time
    t0 = time.perf_counter()
    caches = [{} for _ in m.layers]
    logits = m(prompt, 0, caches)
    ids = prompt
    for _ in range(new_tokens):
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        ids = torch.cat([ids, nxt], dim=1)
        logits = m(nxt, ids.shape[1] - 1, caches)
    out["decode_cached_tokens_per_s"] = new_tokens / (time.perf_counter() - t0)
    # without: the whole sequence again for every new token
    t0 = time.perf_counter()
    ids = prompt
    for _ in range(new_tokens):
        nxt = m(ids)[:, -1].argmax(-1, keepdim=True)
        ids = torch.cat([ids, nxt], dim=1)
    out["decode_uncached_tokens_per_s"] = new_tokens / (time.perf_counter() - t0)
    return out


def blas_loaded():
    """The BLAS library actually mapped into this process (Debian switches libblas.so.3 by alternatives)."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line})
    return [l.rsplit("/", 1)[-1] for l in libs] or ["unknown"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, help="JSON: vocab, d, layers, heads, ctx, batch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = json.loads(args.config)
    res = {"torch": torch.__version__, "threads": args.threads, "blas": blas_loaded()}
    res.update(bench_train(cfg, args.steps, args.warmup))
    res.update(bench_decode(cfg))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
