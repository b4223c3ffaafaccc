"""A character-level language model with an LSTM (char-rnn), in plain PyTorch: it runs
unchanged on PyTorch and on leafgrad, and trains on the Shakespeare text that ships with
leafgrad (leafgrad/datasets/tiny_shakespeare.txt).

    python examples/char_rnn.py                 # with PyTorch
    leafgrad run examples/char_rnn.py           # the same script, on leafgrad
    leafgrad run examples/char_rnn.py --steps 2000 --hidden 256   # a longer run writes better

Each step trains on a batch of random windows of the text (truncated backpropagation through
``--seq-len`` characters); at the end the model writes text one character at a time, carrying
its (h, c) state from character to character.
"""
import argparse
import math
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT = Path(__file__).resolve().parent.parent / "leafgrad" / "datasets" / "tiny_shakespeare.txt"


class CharRNN(nn.Module):
    """Embedding -> LSTM -> linear read-out of the next character's logits."""

    def __init__(self, vocab_size, hidden_size, num_layers, dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers, dropout=dropout,
                            batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


def get_batch(data, batch_size, seq_len, generator):
    """Random windows of the text: inputs and the same windows shifted by one character."""
    starts = torch.randint(len(data) - seq_len - 1, (batch_size,), generator=generator)
    x = torch.stack([data[s:s + seq_len] for s in starts.tolist()])
    y = torch.stack([data[s + 1:s + seq_len + 1] for s in starts.tolist()])
    return x, y


@torch.no_grad()
def sample(model, stoi, itos, prompt, length, temperature, generator):
    """Write ``length`` characters after ``prompt``, feeding the state forward."""
    model.eval()
    idx = torch.tensor([[stoi[c] for c in prompt]])
    logits, state = model(idx)
    out = list(prompt)
    for _ in range(length):
        probs = F.softmax(logits[0, -1] / temperature, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=generator)
        out.append(itos[nxt.item()])
        logits, state = model(nxt.view(1, 1), state)
    model.train()
    return "".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(TEXT))
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--print-every", type=int, default=50)
    p.add_argument("--sample-len", type=int, default=300)
    p.add_argument("--seed", type=int, default=1337)
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    text = open(args.data, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    itos = dict(enumerate(chars))
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(data))
    train_data, val_data = data[:n], data[n:]
    print(f"{len(text):,} characters, {len(chars)} distinct")

    model = CharRNN(len(chars), args.hidden, args.layers, args.dropout)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)

    losses = []
    t0 = time.time()
    for step in range(args.steps):
        x, y = get_batch(train_data, args.batch_size, args.seq_len, gen)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        losses.append(loss.item())
        if step % args.print_every == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4f}  ({time.time() - t0:.1f}s)")

    model.eval()
    with torch.no_grad():
        x, y = get_batch(val_data, args.batch_size, args.seq_len, gen)
        val = F.cross_entropy(model(x)[0].reshape(-1, len(chars)), y.reshape(-1)).item()
    model.train()
    print(f"validation loss {val:.4f} (a uniform guess: {math.log(len(chars)):.4f})")
    if args.sample_len:
        print("---")
        print(sample(model, stoi, itos, "\n", args.sample_len, 0.8, gen))
    return losses


if __name__ == "__main__":
    main()
