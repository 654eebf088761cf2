"""Train a reference model on MNIST: ``python -m reference.train MODEL``.

MODEL is one of gan, vae, pixelcnn, pixelrnn, realnvp. Each epoch writes to ``--out``:
``checkpoint.pt`` (models, optimizers, epoch, torch RNG state, metric history; replaced
atomically, so a killed run loses at most one epoch and ``--resume`` continues it),
``samples_epochNNN.png`` (a grid of samples) and ``metrics.json`` (per epoch: wall
times, mean train loss, the family's test metric; see ``reference.metrics``).

Hyperparameters follow the papers and their common PyTorch ports: Adam at 2e-4 with
beta1 = 0.5 for the GAN (Radford et al. 2016), Adam at 1e-3 for the others. Model sizes
are the contract's defaults; ``--model-arg hidden_dim=64`` overrides one.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.utils import save_image
from tqdm import tqdm

from reference import data, gan, metrics, pixelcnn, pixelrnn, realnvp, vae

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"


class Recipe:
    """One family's models, optimizers, training step, test metric and samples.

    Subclasses give ``build``; models and optimizers live in dicts keyed alike, so
    every family's checkpoint has the same layout.
    """

    batch_size = 64
    lr = 1e-3
    betas = (0.9, 0.999)
    model_kwargs: dict[str, Any] = {}

    def __init__(self, image_shape: tuple[int, int, int], kwargs: dict[str, Any], lr: float, device: torch.device):
        self.image_shape, self.device = image_shape, device
        self.kwargs = {**self.model_kwargs, **kwargs}
        self.models: dict[str, nn.Module] = {k: m.to(device) for k, m in self.build().items()}
        self.optimizers = {
            k: torch.optim.Adam(m.parameters(), lr=lr, betas=self.betas) for k, m in self.models.items()
        }

    def build(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def step(self, x: torch.Tensor) -> dict[str, float]:
        """One update on a batch; returns the losses to average over the epoch."""
        raise NotImplementedError

    def evaluate(self, splits: data.Splits, args: argparse.Namespace) -> dict[str, float]:
        raise NotImplementedError

    def sample(self, n: int) -> torch.Tensor:
        """``(n, *image_shape)`` in ``[0, 1]``, ready for ``save_image``."""
        raise NotImplementedError

    def _single_step(self, loss: torch.Tensor) -> None:
        (opt,) = self.optimizers.values()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @property
    def model(self) -> nn.Module:
        (model,) = self.models.values()
        return model


class GanRecipe(Recipe):
    lr, betas = 2e-4, (0.5, 0.999)
    model_kwargs = {"latent_dim": 100}

    def build(self) -> dict[str, nn.Module]:
        return {
            "generator": gan.Generator(img_shape=self.image_shape, **self.kwargs),
            "discriminator": gan.Discriminator(img_shape=self.image_shape),
        }

    def step(self, x: torch.Tensor) -> dict[str, float]:
        g, d = self.models["generator"], self.models["discriminator"]
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        d_loss, g_loss = gan.train_step(g, d, opt_g, opt_d, x, self.kwargs["latent_dim"])
        return {"d_loss": d_loss, "g_loss": g_loss}

    def _sample(self, n: int) -> torch.Tensor:
        self.models["generator"].eval()
        return gan.sample(self.models["generator"], n, self.kwargs["latent_dim"], self.device)

    def evaluate(self, splits: data.Splits, args: argparse.Namespace) -> dict[str, float]:
        result = metrics.gan_parzen(self._sample, splits.val, splits.test, args.parzen_samples)
        return {"parzen_ll": result.mean, "parzen_stderr": result.stderr, "parzen_sigma": result.sigma}

    def sample(self, n: int) -> torch.Tensor:
        return (self._sample(n) + 1) / 2


class VaeRecipe(Recipe):
    batch_size = 128
    model_kwargs = {"hidden_dim": 400, "latent_dim": 20}

    def build(self) -> dict[str, nn.Module]:
        return {"vae": vae.VAE(input_dim=math.prod(self.image_shape), **self.kwargs)}

    def step(self, x: torch.Tensor) -> dict[str, float]:
        recon, mu, logvar = self.model(x)
        loss = vae.loss_function(recon, x, mu, logvar)
        self._single_step(loss)
        return {"neg_elbo": loss.item() / len(x)}

    def evaluate(self, splits: data.Splits, args: argparse.Namespace) -> dict[str, float]:
        return metrics.vae_bounds(self.model, splits.test, k=args.iwae_k)

    def sample(self, n: int) -> torch.Tensor:
        self.model.eval()
        return vae.sample(self.model, n, self.device).reshape(n, *self.image_shape)


class AutoregressiveRecipe(Recipe):
    """PixelCNN and PixelRNN share a contract: ``nll(model, x)`` and ``sample(...)``."""

    module: Any = pixelcnn

    def step(self, x: torch.Tensor) -> dict[str, float]:
        loss = self.module.nll(self.model, x)
        self._single_step(loss)
        return {"nll": loss.item()}

    def evaluate(self, splits: data.Splits, args: argparse.Namespace) -> dict[str, float]:
        return {"nll": metrics.autoregressive_nll(self.model, self.module.nll, splits.test)}

    def sample(self, n: int) -> torch.Tensor:
        self.model.eval()
        with torch.no_grad():
            return self.module.sample(self.model, n, self.image_shape, self.device)


class PixelCnnRecipe(AutoregressiveRecipe):
    module = pixelcnn
    model_kwargs = {"channels": 64, "n_layers": 7, "kernel_size": 7}

    def build(self) -> dict[str, nn.Module]:
        return {"pixelcnn": pixelcnn.PixelCNN(in_channels=self.image_shape[0], **self.kwargs)}


class PixelRnnRecipe(AutoregressiveRecipe):
    module = pixelrnn
    model_kwargs = {"hidden_channels": 32, "n_layers": 2, "kind": "row"}

    def build(self) -> dict[str, nn.Module]:
        return {"pixelrnn": pixelrnn.PixelRNN(in_channels=self.image_shape[0], **self.kwargs)}


class RealNvpRecipe(Recipe):
    model_kwargs = {"hidden_dim": 256, "n_layers": 6}

    def build(self) -> dict[str, nn.Module]:
        return {"realnvp": realnvp.RealNVP(dim=math.prod(self.image_shape), **self.kwargs)}

    def step(self, x: torch.Tensor) -> dict[str, float]:
        log_prob = metrics.realnvp_log_prob(self.model, x)
        loss = -log_prob.mean()
        self._single_step(loss)
        return {"bits_per_dim": realnvp.bits_per_dim(-loss.detach(), x.shape[1]).item()}

    def evaluate(self, splits: data.Splits, args: argparse.Namespace) -> dict[str, float]:
        return {"bits_per_dim": metrics.realnvp_bits_per_dim(self.model, splits.test)}

    def sample(self, n: int) -> torch.Tensor:
        self.model.eval()
        with torch.no_grad():
            y = self.model.sample(n, device=self.device)
            return realnvp.logit_inverse(y).clamp(0, 1).reshape(n, *self.image_shape)


RECIPES: dict[str, type[Recipe]] = {
    "gan": GanRecipe,
    "vae": VaeRecipe,
    "pixelcnn": PixelCnnRecipe,
    "pixelrnn": PixelRnnRecipe,
    "realnvp": RealNvpRecipe,
}


def _model_arg(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value  # a bare word such as kind=diagonal


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m reference.train", description=__doc__.split("\n")[0])
    p.add_argument("model", choices=RECIPES)
    p.add_argument("--epochs", type=int, default=10, help="total epochs, counting resumed ones")
    p.add_argument("--batch-size", type=int, help="default: the family's (GAN 64, VAE 128, others 64)")
    p.add_argument("--lr", type=float, help="default: the family's (GAN 2e-4, others 1e-3)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--data-dir", help=f"folder of the four MNIST .gz files (else ${data.DATA_ENV}, else download)")
    p.add_argument("--out", help="output folder (default runs/MODEL)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help=f"continue from OUT/{CHECKPOINT}")
    p.add_argument("--limit-train", type=int, help="train on the first N training images")
    p.add_argument("--limit-test", type=int, help="evaluate on the first N validation and test images")
    p.add_argument("--max-minutes", type=float, help="start no new epoch after this many minutes (one always runs)")
    p.add_argument("--model-arg", type=_model_arg, action="append", default=[], metavar="KEY=VALUE",
                   help="constructor argument, e.g. channels=32 (repeatable)")
    p.add_argument("--n-samples", type=int, default=64, help="images in each sample grid")
    p.add_argument("--parzen-samples", type=int, default=10_000, help="GAN: generator samples in the Parzen window")
    p.add_argument("--iwae-k", type=int, default=100, help="VAE: importance samples (the paper uses 5000)")
    return p.parse_args(argv)


def _device(choice: str) -> torch.device:
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(choice)


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file and ``os.replace``: a kill never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def train_epoch(
    recipe: Recipe, train: torch.Tensor, batch_size: int, order: torch.Generator, desc: str
) -> dict[str, float]:
    """One pass in a shuffled order; returns each loss averaged over images."""
    for model in recipe.models.values():
        model.train()
    totals: dict[str, float] = {}
    seen = 0
    batches = torch.randperm(len(train), generator=order).split(batch_size)
    bar = tqdm(batches, desc=desc, disable=None)
    for idx in bar:
        losses = recipe.step(train[idx].to(recipe.device))
        seen += len(idx)
        for key, value in losses.items():
            totals[key] = totals.get(key, 0.0) + value * len(idx)
        bar.set_postfix({key: f"{total / seen:.4g}" for key, total in totals.items()})
    return {key: total / seen for key, total in totals.items()}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the command line; returns the per-epoch history written to metrics.json."""
    args = parse_args(argv)
    recipe_cls = RECIPES[args.model]
    out = Path(args.out or Path("runs") / args.model)
    out.mkdir(parents=True, exist_ok=True)
    device = _device(args.device)
    torch.manual_seed(args.seed)
    batch_size = args.batch_size or recipe_cls.batch_size
    config = {
        "model": args.model,
        "model_kwargs": {**recipe_cls.model_kwargs, **dict(args.model_arg)},
        "batch_size": batch_size,
        "lr": args.lr or recipe_cls.lr,
        "seed": args.seed,
        "limit_train": args.limit_train,
        "limit_test": args.limit_test,
    }

    splits = data.load_splits(
        args.model, args.data_dir, seed=args.seed, limit_train=args.limit_train, limit_eval=args.limit_test
    )
    recipe = recipe_cls(splits.image_shape, config["model_kwargs"], config["lr"], device)
    history: list[dict[str, Any]] = []
    if args.resume:
        history = _resume(out / CHECKPOINT, recipe, config)

    order = torch.Generator()
    started = time.monotonic()
    first = len(history) + 1
    for epoch in range(first, args.epochs + 1):
        if epoch > first and args.max_minutes is not None and time.monotonic() - started > 60 * args.max_minutes:
            break
        order.manual_seed(args.seed * 1_000_003 + epoch)  # a resumed run shuffles as an unbroken one
        t0 = time.monotonic()
        train_loss = train_epoch(recipe, splits.train, batch_size, order, f"{args.model} {epoch}/{args.epochs}")
        t1 = time.monotonic()
        test = recipe.evaluate(splits, args)
        save_image(recipe.sample(args.n_samples), out / f"samples_epoch{epoch:03d}.png",
                   nrow=max(1, round(math.sqrt(args.n_samples))))
        history.append({
            "epoch": epoch,
            "train_seconds": t1 - t0,
            "eval_seconds": time.monotonic() - t1,
            "train_loss": train_loss,
            "test": test,
        })
        checkpoint = {
            "config": config,
            "epoch": epoch,
            "models": {k: m.state_dict() for k, m in recipe.models.items()},
            "optimizers": {k: o.state_dict() for k, o in recipe.optimizers.items()},
            "rng": _rng_state(),
            "history": history,
        }
        _atomic_write(out / CHECKPOINT, lambda p: torch.save(checkpoint, p))
        report = json.dumps({"config": config, "epochs": history}, indent=2)
        _atomic_write(out / METRICS, lambda p: p.write_text(report))
        tqdm.write(f"{args.model} epoch {epoch}: train {train_loss} test {test}")
    return history


def _resume(path: Path, recipe: Recipe, config: dict[str, Any]) -> list[dict[str, Any]]:
    """Load a checkpoint into ``recipe``; returns its history. Refuses another model's."""
    if not path.is_file():
        raise FileNotFoundError(f"--resume: no checkpoint at {path}")
    # On the CPU: the RNG state must be a CPU tensor; load_state_dict moves the rest.
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model", "model_kwargs"):
        if ckpt["config"][key] != config[key]:
            raise ValueError(f"--resume: checkpoint {path} has {key}={ckpt['config'][key]!r}, not {config[key]!r}")
    for key, model in recipe.models.items():
        model.load_state_dict(ckpt["models"][key])
    for key, opt in recipe.optimizers.items():
        opt.load_state_dict(ckpt["optimizers"][key])
    _set_rng_state(ckpt["rng"])
    return ckpt["history"]


if __name__ == "__main__":
    main()
