"""The training suite's comparison column: each experiment's model, optimiser and batch written
in PyTorch (eager), so that ``make bench`` can time one training step of each side by side.

PyTorch is an optional extra (``jaxdl[torch]``), never a dependency: :func:`make_peer` takes the
``torch`` module and is only called when it imports. A peer is the same computation, not the
same numbers: its own initialisation and random batches, the same shapes, layers, loss and
optimiser (the data stay on the host as float32 tensors, batches drawn by index each step, as
the jaxdl step does on its device arrays). With ``compiled=True`` the model's forward and loss
(the part ``torch.compile`` is meant for: ``loss.backward()`` then runs the compiled backward)
go through ``torch.compile`` in its default mode; the optimiser's step stays eager.
"""

from __future__ import annotations

import math

import numpy as np

# The experiments that have a peer.
PEERS = ("cnn_digits", "mnist_cnn", "lstm_adding", "rnn_adding", "nice_digits", "nice_moons", "nice_mnist",
         "gan_ring")


def lab2_cnn(torch, channels: int, hw: int):
    """mnist_cnn's network (``lab2_layers``): conv 5×5 SAME → pool → relu → conv → pool → relu →
    FC 512 → relu → FC 10, layer for layer."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(channels, 16, 5, padding=2), nn.MaxPool2d(2), nn.ReLU(),
                         nn.Conv2d(16, 32, 5, padding=2), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(32 * (hw // 4) ** 2, 512), nn.ReLU(), nn.Linear(512, 10))


def _classifier(torch, cfg, data, jit):
    nn = torch.nn
    x = torch.tensor(np.asarray(data["x_train"], np.float32))
    y = torch.tensor(np.asarray(data["y_train"], np.int64))
    c, hw = x.shape[1], x.shape[2]
    if cfg.model == "lab_cnn":  # conv 3×3 SAME → relu → pool → conv → relu → pool → FC 64 → relu → FC 10
        net = nn.Sequential(nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * (hw // 4) ** 2, 64), nn.ReLU(),
                            nn.Linear(64, 10))
    elif cfg.model == "lab2_cnn":
        net = lab2_cnn(torch, c, hw)
    else:
        raise ValueError(f"no PyTorch peer for model {cfg.model!r}")
    opt = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate)
    ce = nn.CrossEntropyLoss()
    loss_of = jit(lambda xb, yb: ce(net(xb), yb)
                  + 0.5 * cfg.weight_decay * sum((p * p).sum() for p in net.parameters()))

    def step():
        idx = torch.randint(len(x), (cfg.batch_size,))
        loss = loss_of(x[idx], y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def _adding_batch(torch, n: int, length: int):
    """The adding problem, as the experiment draws it each step: values U[0, 1), two markers (one
    in each half), the target the sum of the two marked values."""
    values = torch.rand(n, length)
    half = length // 2
    markers = torch.zeros(n, length)
    rows = torch.arange(n)
    markers[rows, torch.randint(0, half, (n,))] = 1.0
    markers[rows, torch.randint(half, length, (n,))] = 1.0
    return torch.stack((values, markers), dim=-1), (values * markers).sum(dim=1, keepdim=True)


def _recurrent(torch, cfg, data, cell, jit):
    """The adding problem's LSTM or tanh RNN (``nn.LSTM``, ``nn.RNN``) and a dense head on the last
    state; MSE, global-norm clipping, Adam."""
    nn = torch.nn
    rec = (nn.LSTM if cell == "lstm" else nn.RNN)(2, cfg.hidden, batch_first=True)
    head = nn.Linear(cfg.hidden, 1)
    params = list(rec.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=cfg.learning_rate)

    def mse(x, y):
        out, _ = rec(x)
        return ((head(out[:, -1]) - y) ** 2).mean()

    loss_of = jit(mse)

    def step():
        loss = loss_of(*_adding_batch(torch, cfg.batch_size, cfg.length))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, cfg.clip_norm)
        opt.step()
        return loss.detach()

    return step


def _flow(torch, cfg, data, levels, jit):
    """NICE on flattened examples: additive couplings (halves, or odd/even indices), MLPs with ReLU
    between the layers, a diagonal scaling, a logistic or Gaussian prior; AdamW on the couplings."""
    nn = torch.nn
    F = torch.nn.functional
    x = torch.tensor(np.asarray(data["x_train"], np.float32).reshape(len(data["x_train"]), -1))
    d = x.shape[1]
    half = d // 2
    odd_even = cfg.get("partition", "halves") == "odd_even"

    def mlp():
        layers, width = [], half
        for w in cfg.hidden:
            layers += [nn.Linear(width, w), nn.ReLU()]
            width = w
        return nn.Sequential(*layers, nn.Linear(width, half))

    couplings = nn.ModuleList(mlp() for _ in range(cfg.num_couplings))
    scale = nn.Parameter(torch.zeros(d))
    opt = torch.optim.AdamW([{"params": couplings.parameters(), "weight_decay": cfg.weight_decay},
                             {"params": [scale], "weight_decay": 0.0}], lr=cfg.learning_rate)

    def log_prob(v):
        for i, h in enumerate(couplings):
            a, b = (v[:, 0::2], v[:, 1::2]) if odd_even else (v[:, :half], v[:, half:])
            if i % 2:
                a, b = b, a
            b = b + h(a)
            if i % 2:
                a, b = b, a
            v = torch.stack((a, b), dim=2).reshape(len(v), d) if odd_even else torch.cat((a, b), dim=1)
        z = v * torch.exp(scale)
        if cfg.prior == "logistic":
            prior = -(F.softplus(z) + F.softplus(-z)).sum(dim=1)
        else:
            prior = -0.5 * (z * z).sum(dim=1) - 0.5 * d * math.log(2 * math.pi)
        return prior + scale.sum()

    nll = jit(lambda batch: -log_prob(batch).mean())

    def step():
        idx = torch.randint(len(x), (cfg.batch_size,))
        batch = x[idx]
        if levels:
            batch = batch + torch.rand_like(batch) / levels
        loss = nll(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def _gan(torch, cfg, data, jit):
    """The ring GAN: MLP generator and discriminator, D then G (non-saturating or minimax), Adam."""
    nn = torch.nn
    F = torch.nn.functional
    h, slope = cfg.hidden, cfg.leaky_slope
    gen_eager = nn.Sequential(nn.Linear(cfg.latent_size, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 2))
    disc_eager = nn.Sequential(nn.Linear(2, h), nn.LeakyReLU(slope), nn.Linear(h, h), nn.LeakyReLU(slope),
                               nn.Linear(h, 1))
    gen, disc = jit(gen_eager), jit(disc_eager)
    make = (lambda p: torch.optim.Adam(p, lr=cfg.learning_rate, betas=(cfg.adam_b1, 0.999))) \
        if cfg.optimizer == "adam" else (lambda p: torch.optim.SGD(p, lr=cfg.learning_rate))
    opt_g, opt_d = make(gen_eager.parameters()), make(disc_eager.parameters())
    modes = torch.tensor(np.asarray(data["centers"], np.float32))
    ones, zeros = torch.ones(cfg.batch_size, 1), torch.zeros(cfg.batch_size, 1)

    def step():
        real = modes[torch.randint(len(modes), (cfg.batch_size,))] + 0.02 * torch.randn(cfg.batch_size, 2)
        z = torch.randn(cfg.batch_size, cfg.latent_size)
        fake = gen(z)
        loss_d = F.binary_cross_entropy_with_logits(disc(real), ones) + \
            F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        logits = disc(fake)
        loss_g = F.binary_cross_entropy_with_logits(logits, ones) if cfg.generator_loss == "non_saturating" \
            else -F.binary_cross_entropy_with_logits(logits, zeros)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        return loss_g.detach()

    return step


def make_peer(torch, name: str, cfg, data, compiled: bool = False):
    """One training step of experiment ``name`` in PyTorch: a function that runs it and returns
    the loss (a tensor), for the config ``cfg`` and the experiment's host ``data``; ``compiled``:
    the forward and loss through ``torch.compile`` (compiled at the first calls)."""
    jit = torch.compile if compiled else (lambda f: f)
    if name in ("cnn_digits", "mnist_cnn"):
        return _classifier(torch, cfg, data, jit)
    if name in ("lstm_adding", "rnn_adding"):
        return _recurrent(torch, cfg, data, "lstm" if name == "lstm_adding" else "rnn", jit)
    if name == "nice_digits":
        return _flow(torch, cfg, data, 17, jit)
    if name == "nice_mnist":
        return _flow(torch, cfg, data, 256, jit)
    if name == "nice_moons":
        return _flow(torch, cfg, data, None, jit)
    if name == "gan_ring":
        return _gan(torch, cfg, data, jit)
    raise KeyError(f"no PyTorch peer for experiment {name!r}; peers: {', '.join(PEERS)}")
