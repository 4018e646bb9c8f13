"""Trainer and reference scorer for train.torch: a small decoder-only transformer LM in PyTorch.

Run by nodes/train-torch/index.ts as `python3 train.py -` (the config arrives as one JSON line on
stdin, once the node has tokenized: torch is imported meanwhile) or by hand as
`python3 train.py <config.json>`; the config's "mode" is "train" or "eval". Everything the parent needs arrives on stdout as JSON lines, so the node can
stream loss, tokens/s and ETA; errors go to stderr. Only the standard library and torch are used.

Token files are little-endian uint32 streams written by the node. Training reads one stream where
every document ends with the EOS id (the stream starts with one too), plus an optional uint8 mask
of the same length: 1 where the token is a prediction target (completion-only losses). Evaluation
reads documents by offsets and scores them exactly as eval.lm-loss does over ONNX Runtime (see
`score_document`), so the two can be compared to 1e-4.
"""

import json
import math
import os
import sys
import threading
import time

EXIT_NO_TORCH = 3


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as err:  # the node turns this exit code into install instructions
    sys.stderr.write(f"torch is not importable by {sys.executable}: {err}\n")
    sys.exit(EXIT_NO_TORCH)


class Block(nn.Module):
    def __init__(self, d_model, heads, ffn, context):
        super().__init__()
        self.heads = heads
        self.hd = d_model // heads
        self.scale = 1.0 / math.sqrt(self.hd)
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, ffn)
        self.out = nn.Linear(ffn, d_model)
        # Additive causal mask, sliced to the sequence length so the ONNX export keeps a dynamic axis.
        # A large finite negative (not -inf) keeps PyTorch and ONNX Runtime softmaxes identical.
        mask = torch.full((context, context), -1e9).triu(1)
        self.register_buffer("mask", mask.view(1, 1, context, context), persistent=False)

    def forward(self, x):
        b, t, d = x.shape
        hd = self.hd
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q = q.view(b, t, self.heads, hd).transpose(1, 2)
        k = k.view(b, t, self.heads, hd).transpose(1, 2)
        v = v.view(b, t, self.heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * self.scale + self.mask[:, :, :t, :t]
        y = F.softmax(att, dim=-1) @ v
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class ProxyLM(nn.Module):
    """GPT-style: learned positions, pre-norm blocks, output head tied to the token embedding."""

    def __init__(self, vocab, context, layers, d_model, heads, ffn):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList([Block(d_model, heads, ffn, context) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.pos(pos)
        for blk in self.blocks:
            x = blk(x)
        return self.ln_f(x) @ self.tok.weight.t()


def build(arch):
    return ProxyLM(arch["vocabSize"], arch["context"], arch["layers"], arch["dModel"], arch["heads"], arch["ffn"])


def save_weights(model, folder):
    """Raw float32 tensors plus a JSON index: loadable without pickle, byte-identical across runs."""
    index, offset = {}, 0
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        for name, tensor in model.state_dict().items():
            data = tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
            f.write(data)
            index[name] = {"shape": list(tensor.shape), "offset": offset, "bytes": len(data)}
            offset += len(data)
    with open(os.path.join(folder, "weights.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)


def load_weights(model, folder):
    with open(os.path.join(folder, "weights.json")) as f:
        index = json.load(f)
    with open(os.path.join(folder, "weights.bin"), "rb") as f:
        raw = f.read()
    state = {}
    for name, e in index.items():
        t = torch.frombuffer(bytearray(raw[e["offset"] : e["offset"] + e["bytes"]]), dtype=torch.float32)
        state[name] = t.view(e["shape"])
    model.load_state_dict(state)


def read_u32(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    # uint32 ids fit int64 losslessly; torch has no uint32 dtype in 1.13.
    return torch.frombuffer(data, dtype=torch.int32).to(torch.int64) if data else torch.zeros(0, dtype=torch.int64)


def pick_device(choice):
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise SystemExit("device 'cuda' requested but torch.cuda.is_available() is False")
        return torch.device("cuda")
    return torch.device("cpu")


def setup(cfg):
    torch.manual_seed(cfg["seed"])
    torch.use_deterministic_algorithms(True)
    if cfg.get("threads", 0) > 0:
        torch.set_num_threads(cfg["threads"])
        torch.set_num_interop_threads(1)


def lr_at(step, cfg):
    warm = cfg["warmupSteps"]
    if warm > 0 and step < warm:
        return cfg["lr"] * (step + 1) / warm
    progress = (step - warm) / max(1, cfg["steps"] - warm)
    return cfg["minLr"] + 0.5 * (cfg["lr"] - cfg["minLr"]) * (1 + math.cos(math.pi * min(1.0, progress)))


def train(cfg):
    setup(cfg)
    device = pick_device(cfg["device"])
    arch = cfg["arch"]
    model = build(arch)
    if cfg.get("init"):
        load_weights(model, cfg["init"])
    model.to(device)
    stream = read_u32(cfg["tokens"])
    mask = None
    if cfg.get("mask"):
        with open(cfg["mask"], "rb") as f:
            mask = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).to(torch.bool)
    ctx, batch, steps = arch["context"], cfg["batch"], cfg["steps"]
    span = min(ctx, len(stream) - 1)
    if span < 1:
        raise SystemExit("the training stream has fewer than two tokens")
    params = [p for p in model.parameters()]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg["lr"],
        betas=(0.9, 0.95),
    )
    gen = torch.Generator().manual_seed(cfg["seed"])
    emit("start", device=str(device), parameters=sum(p.numel() for p in params), threads=torch.get_num_threads(), streamTokens=len(stream))
    every = max(1, cfg.get("logEvery", 0) or steps // 100)
    curve, acc_loss, acc_n, tokens = [], 0.0, 0, 0
    t0 = time.perf_counter()
    model.train()
    offsets = torch.arange(span + 1)
    for step in range(steps):
        starts = torch.randint(0, len(stream) - span, (batch,), generator=gen)
        idx = starts.unsqueeze(1) + offsets
        window = stream[idx]
        x, y = window[:, :-1].to(device), window[:, 1:].to(device)
        logits = model(x)
        losses = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none")
        if mask is not None:
            m = mask[idx[:, 1:]].reshape(-1).to(device)
            n = int(m.sum())
            if n == 0:
                continue
            loss = (losses * m).sum() / n
        else:
            n = losses.numel()
            loss = losses.mean()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["gradClip"] > 0:
            torch.nn.utils.clip_grad_norm_(params, cfg["gradClip"])
        opt.step()
        tokens += batch * span
        acc_loss += float(loss.detach())
        acc_n += 1
        if (step + 1) % every == 0 or step + 1 == steps:
            elapsed = time.perf_counter() - t0
            mean = acc_loss / acc_n
            curve.append({"step": step + 1, "loss": round(mean, 6), "tokens": tokens})
            emit("step", step=step + 1, steps=steps, loss=mean, tokens=tokens, elapsed=elapsed,
                 tokensPerSec=tokens / elapsed if elapsed > 0 else 0.0, eta=elapsed / (step + 1) * (steps - step - 1))
            acc_loss, acc_n = 0.0, 0
    train_secs = time.perf_counter() - t0
    model.to("cpu").eval()
    out = cfg["out"]
    save_weights(model, out)
    with open(os.path.join(out, "curve.json"), "w") as f:
        json.dump(curve, f)
    export_onnx(model, arch, os.path.join(out, "model.onnx"))
    emit("done", tokens=tokens, trainSeconds=train_secs, exportSeconds=time.perf_counter() - t0 - train_secs,
         finalLoss=curve[-1]["loss"] if curve else None)


class WithLogProbs(nn.Module):
    """Adds log_softmax as a second output: scorers then read one value per position instead of
    normalising a whole vocabulary row in JavaScript."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        logits = self.model(input_ids)
        return logits, F.log_softmax(logits, dim=-1)


def export_onnx(model, arch, path):
    dummy = torch.zeros((1, min(8, arch["context"])), dtype=torch.int64)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            WithLogProbs(model),
            (dummy,),
            path,
            input_names=["input_ids"],
            output_names=["logits", "logprobs"],
            dynamic_axes={"input_ids": axes, "logits": axes, "logprobs": axes},
            opset_version=14,
            do_constant_folding=True,
        )


def windows(n_targets, context):
    """(start, length) of each scoring window over a document of n_targets predictions."""
    s = 0
    while s < n_targets:
        yield s, min(context, n_targets - s)
        s += context


def evaluate(cfg):
    """Sum of NLL (nats) and prediction count per document, one JSON line each, then totals."""
    setup(cfg)
    device = pick_device(cfg["device"])
    arch = cfg["arch"]
    model = build(arch)
    load_weights(model, cfg["init"])
    model.to(device).eval()
    stream = read_u32(cfg["tokens"])
    with open(cfg["offsets"]) as f:
        offsets = json.load(f)
    eos, ctx = arch["eos"], arch["context"]
    # Same batches as the ONNX scorer (LOGITS_BUDGET in nodes/_sdk/onnx/causal-lm.ts: 1 M floats).
    budget = cfg.get("batchTokens") or max(ctx, (1024 * 1024) // arch["vocabSize"])
    t0 = time.perf_counter()
    # Every window of every document, longest first, in padded batches (as the ONNX scorer does):
    # right padding cannot change a causal model's earlier positions, and padded ones are not read.
    wins = []
    for d, (a, b) in enumerate(offsets):
        seq = torch.cat([torch.tensor([eos]), stream[a:b], torch.tensor([eos])])
        for s, n in windows(len(seq) - 1, ctx):
            wins.append((d, seq[s : s + n], seq[s + 1 : s + n + 1]))
    wins.sort(key=lambda w: -len(w[1]))
    nll = [0.0] * len(offsets)
    count = [0] * len(offsets)
    with torch.no_grad():
        i = 0
        while i < len(wins):
            width = len(wins[i][1])
            batch = wins[i : i + max(1, budget // width)]
            i += len(batch)
            x = torch.zeros((len(batch), width), dtype=torch.int64)
            for r, (_, inp, _) in enumerate(batch):
                x[r, : len(inp)] = inp
            logp = F.log_softmax(model(x.to(device)).double(), dim=-1).cpu()
            for r, (d, _, tgt) in enumerate(batch):
                nll[d] -= float(logp[r, : len(tgt)].gather(1, tgt.unsqueeze(1)).sum())
                count[d] += len(tgt)
    results = [[nll[d], count[d]] for d in range(len(offsets))]
    total_nll, total_n = sum(nll), sum(count)
    emit("eval", documents=results, nll=total_nll, tokens=total_n, seconds=time.perf_counter() - t0)


def exit_with_parent():
    """The node starts us in our own process group; if the engine dies, stop instead of training on."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main():
    exit_with_parent()
    if len(sys.argv) != 2:
        sys.stderr.write("usage: train.py <config.json | ->\n")
        sys.exit(2)
    if sys.argv[1] == "-":
        # The node starts us while it still tokenizes, so importing torch (seconds) overlaps that
        # work; the config follows on stdin once the token stream is written.
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)  # the node gave up before sending any work
        cfg = json.loads(line)
    else:
        with open(sys.argv[1]) as f:
            cfg = json.load(f)
    if cfg["mode"] == "train":
        train(cfg)
    elif cfg["mode"] == "eval":
        evaluate(cfg)
    elif cfg["mode"] == "probe":
        emit("probe", torch=torch.__version__, cuda=torch.cuda.is_available())
    else:
        sys.stderr.write(f"unknown mode {cfg['mode']}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
